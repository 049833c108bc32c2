// Timestamp links (#t=SECONDS) already jump to their paragraph without scripts; here they also
// seek the player. A page opened at #t=N starts the player there, and the paragraph being
// heard is marked.
(function () {
  "use strict";
  var player = document.getElementById("player");
  if (!player) return;

  function secondsIn(hash) {
    var match = /^#t=(\d+(?:\.\d+)?)$/.exec(hash);
    return match ? parseFloat(match[1]) : null;
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest("a.time");
    var seconds = link && secondsIn(link.hash);
    if (seconds === null || !link) return;
    event.preventDefault();
    history.replaceState(null, "", link.hash);
    player.currentTime = seconds;
    // The click allows playback; a player that still refuses simply stays paused.
    player.play().catch(function () {});
  });

  var opening = secondsIn(location.hash);
  if (opening !== null) player.currentTime = opening;

  // A search result in the episode already open changes only the address's #t=: follow it.
  window.addEventListener("hashchange", function () {
    var seconds = secondsIn(location.hash);
    if (seconds === null) return;
    player.currentTime = seconds;
    player.play().catch(function () {});
  });

  var turns = Array.prototype.slice.call(document.querySelectorAll(".turn[data-start]"));
  player.addEventListener("timeupdate", function () {
    var heard = null;
    for (var i = 0; i < turns.length && parseFloat(turns[i].dataset.start) <= player.currentTime; i++) {
      heard = turns[i];
    }
    turns.forEach(function (turn) { turn.classList.toggle("playing", turn === heard); });
  });
})();
