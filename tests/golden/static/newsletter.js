// Copy buttons for the week's newsletter. Progressive enhancement: without JavaScript (or
// without the Clipboard API) the buttons stay hidden and the download links do the job.
(function () {
  "use strict";
  var box = document.querySelector(".newsletter-copy");
  if (!box || !navigator.clipboard || !window.fetch) return;
  var status = box.querySelector("[role=status]");
  var links = {};
  document.querySelectorAll("[data-copy-format]").forEach(function (a) {
    links[a.getAttribute("data-copy-format")] = a.href;
  });

  function say(text) { status.textContent = text; }

  function copy(format) {
    return fetch(links[format]).then(function (r) {
      if (!r.ok) throw new Error("HTTP " + r.status);
      return r.text();
    }).then(function (text) {
      // "Copy HTML" puts the rendered email on the clipboard for mail tools, with the
      // source as the plain-text flavour for code editors.
      if (format === "html" && window.ClipboardItem) {
        return navigator.clipboard.write([new ClipboardItem({
          "text/html": new Blob([text], {type: "text/html"}),
          "text/plain": new Blob([text], {type: "text/plain"})
        })]);
      }
      return navigator.clipboard.writeText(text);
    });
  }

  box.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-copy]");
    if (!button) return;
    var label = button.textContent;
    copy(button.getAttribute("data-copy")).then(function () {
      say(label.replace("Copy ", "") + " copied.");
    }, function () {
      say("Could not copy here; use the download link instead.");
    });
  });
  box.hidden = false;
})();
