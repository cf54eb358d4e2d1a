// Vouch admin helpers. No dependencies; the page works without this file.
'use strict';
(function () {
  // Enter in a row's "reason" box rejects that row instead of submitting the bulk-action form.
  document.addEventListener('keydown', function (event) {
    const input = event.target;
    if (event.key !== 'Enter' || !input.classList || !input.classList.contains('vouch-reason')) {
      return;
    }
    event.preventDefault();
    const button = input.parentElement.querySelector('button[formaction]');
    if (button) {
      button.click();
    }
  });
  // While a photo or video is processing, reload the page to show its progress.
  document.addEventListener('DOMContentLoaded', function () {
    const waiting = document.querySelector('[data-vouch-refresh]');
    if (waiting) {
      const seconds = parseInt(waiting.getAttribute('data-vouch-refresh'), 10) || 5;
      window.setTimeout(function () { window.location.reload(); }, seconds * 1000);
    }
  });
})();
