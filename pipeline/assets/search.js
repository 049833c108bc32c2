// The search box over every episode's transcript (Pagefind's own UI on the index in
// pagefind/). Without scripts, or before an index is published, nothing shows.
(function () {
  "use strict";
  var box = document.getElementById("search");
  if (!box || typeof PagefindUI === "undefined") return;
  new PagefindUI({
    element: box,
    // Results are addressed from the site's root ("<slug>/#t=SECONDS"), wherever it is served.
    baseUrl: new URL(box.dataset.root, location.href).pathname,
    showImages: false,
    showSubResults: true,  // the turns: each opens the episode at its time
    excerptLength: 24,
  });
  // Pagefind's input has a title but no label: give it a real one (and its form is the one
  // search landmark: the box around it has no role of its own).
  var input = box.querySelector("input");
  if (input) {
    input.id = "search-input";
    var label = document.createElement("label");
    label.htmlFor = input.id;
    label.className = "visually-hidden";
    label.textContent = box.dataset.label;
    input.parentNode.insertBefore(label, input);
  }
  box.hidden = false;
})();
