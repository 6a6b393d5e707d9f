// Keeps a parent run's progress fresh: fetches the fragment every 2 seconds and swaps it in,
// stopping once every child has finished. No polling happens when the page is already complete.
(function () {
  "use strict";
  const box = document.querySelector("[data-progress-url]");
  if (!box) return;
  const INTERVAL_MS = 2000;

  function complete() {
    const progress = box.querySelector("[data-complete]");
    return progress && progress.dataset.complete === "true";
  }

  async function refresh() {
    try {
      const response = await fetch(box.dataset.progressUrl, {
        credentials: "same-origin",
        headers: { Accept: "text/html" },
      });
      if (response.ok) box.innerHTML = await response.text();
    } catch (error) {
      // A network blip: the next tick tries again.
    }
    if (complete()) {
      // The parent's own status settles with its last child; reload to show it.
      window.location.reload();
    } else {
      window.setTimeout(refresh, INTERVAL_MS);
    }
  }

  if (!complete()) window.setTimeout(refresh, INTERVAL_MS);
})();
