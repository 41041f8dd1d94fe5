/* The little behaviour pages share, kept out of the pages themselves so that the
 * Content-Security-Policy allows no inline script (and htmx runs with allowEval off).
 *
 * - <select data-autosubmit>: choosing an option sends its form (the language menu,
 *   the org unit of the ledgers' overview).
 * - hx-target="#x" whose element has data-swap-statuses="400 404": htmx shows those
 *   answers too (a refused check-in says why), not only 2xx ones.
 * - <form data-clear-after-request="code">: after each answer, that field is emptied
 *   and focused again, ready for the next scan.
 */
(function () {
  "use strict";

  document.addEventListener("change", function (event) {
    var select = event.target;
    if (select.matches && select.matches("select[data-autosubmit]") && select.form) {
      select.form.submit();
    }
  });

  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail.target;
    var statuses = target && target.getAttribute && target.getAttribute("data-swap-statuses");
    if (statuses && statuses.split(/\s+/).indexOf(String(event.detail.xhr.status)) >= 0) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.detail.elt;
    var name = form && form.getAttribute && form.getAttribute("data-clear-after-request");
    if (name && form.elements[name]) {
      form.elements[name].value = "";
      form.elements[name].focus();
    }
  });
})();
