// papermode review: keyboard only. No inline script (the CSP forbids it), no other files.
// Enter confirms (or saves the typed value), digits type a value, u unreadable,
// n not on this page, s skip, g confirms the group of empty boxes, z undoes the newest.
"use strict";
(function () {
  function click(id) {
    var button = document.getElementById(id);
    if (button) { button.click(); return true; }
    return false;
  }
  function undoNewest() {
    var form = document.querySelector("#recent form.undo");
    if (form) { form.requestSubmit(); }
  }
  var shortcuts = { u: "btn-unreadable", n: "btn-not-on-page", s: "btn-skip", g: "btn-group" };
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) { return; }
    var input = document.getElementById("value");
    var item = document.getElementById("item");
    if (!item) { return; }
    var textBox = item.dataset.kind === "text" || item.dataset.kind === "sheet";
    var typing = input && document.activeElement === input;
    if (event.key === "Enter") {
      event.preventDefault();
      if (input && input.value.trim() !== "") { click("btn-correct"); }
      else { click("btn-confirm"); }
      return;
    }
    if (event.key === "Escape" && input) { input.value = ""; input.blur(); return; }
    // In a free-text box letters are the value (Escape leaves it); elsewhere commands.
    if (typing && textBox) { return; }
    if (event.key === "z") { event.preventDefault(); undoNewest(); return; }
    if (shortcuts[event.key]) { event.preventDefault(); click(shortcuts[event.key]); return; }
    if (/^[0-9.]$/.test(event.key) && input && !typing) {
      event.preventDefault();
      input.focus();
      input.value += event.key;
    }
  });
})();
