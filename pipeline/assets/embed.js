// The embeddable player (<slug>/embed/): a chapter's time seeks the player (without scripts it
// opens the episode's page there), and the line of the transcript being heard is shown.
(function () {
  "use strict";
  var player = document.getElementById("player");
  var now = document.getElementById("now");
  if (!player || !now) return;
  var text = document.getElementById("now-text");
  var segments = [];

  document.addEventListener("click", function (event) {
    var link = event.target.closest("a.time[data-start]");
    if (!link) return;
    event.preventDefault();
    player.currentTime = parseFloat(link.dataset.start);
    player.play().catch(function () {});
  });

  function show() {
    var heard = null;
    for (var i = 0; i < segments.length && segments[i].startTime <= player.currentTime; i++) {
      heard = segments[i];
    }
    text.textContent = heard ? (heard.speaker ? heard.speaker + " : " : "") + heard.body : "";
  }

  fetch(now.dataset.transcript)
    .then(function (response) { return response.ok ? response.json() : { segments: [] }; })
    .then(function (data) { segments = data.segments || []; show(); })
    .catch(function () {});
  player.addEventListener("timeupdate", show);
  player.addEventListener("seeked", show);
})();
