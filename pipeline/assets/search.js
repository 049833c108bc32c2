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
  box.hidden = false;
})();
