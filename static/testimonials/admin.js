// Vouch's workspace helpers. No dependencies; every page works without this file (forms submit,
// links open). It adds: the queue's keyboard flow (j/k/a/r/e/o) with decisions that keep your place,
// filter menus, copy buttons, the widget builder's live preview, and the form builder's question order.
'use strict';
(function () {
  const $ = (sel, root) => (root || document).querySelector(sel);
  const $all = (sel, root) => Array.from((root || document).querySelectorAll(sel));

  function csrf() {
    const input = $('input[name=csrfmiddlewaretoken]');
    return input ? input.value : '';
  }

  function say(text, level) {
    // The admin's own message list, so a decision made by keyboard reads like one made by a click.
    let list = $('ul.messagelist');
    if (!list) {
      list = document.createElement('ul');
      list.className = 'messagelist';
      const content = $('#content') || document.body;
      content.parentNode.insertBefore(list, content);
    }
    const item = document.createElement('li');
    item.className = level === 'error' ? 'error' : 'success';
    item.setAttribute('role', level === 'error' ? 'alert' : 'status');
    item.textContent = text;
    list.prepend(item);
    while (list.children.length > 4) list.lastElementChild.remove();
  }

  /* ------------------------------------------------------------------ the queue */
  function initQueue() {
    const table = $('#result_list');
    if (!table) return;
    const keyboard = !!$('[data-vouch-queue]');
    let current = -1;
    const rows = () => $all('tbody tr', table).filter((tr) => !tr.classList.contains('vouch-leaving'));

    function focusRow(index, scroll) {
      const all = rows();
      if (!all.length) return;
      current = Math.max(0, Math.min(all.length - 1, index));
      all.forEach((tr, i) => tr.classList.toggle('vouch-current', i === current));
      if (scroll !== false) all[current].scrollIntoView({ block: 'nearest' });
    }

    async function decide(button, row) {
      const url = button.getAttribute('formaction');
      const body = new FormData();
      body.append('csrfmiddlewaretoken', csrf());
      const reason = $('.vouch-reason', row);
      if (reason) body.append(reason.name, reason.value);
      let answer;
      try {
        const response = await fetch(url, {
          method: 'POST', body, credentials: 'same-origin', headers: { Accept: 'application/json' },
        });
        answer = await response.json();
      } catch (error) {
        button.form.requestSubmit(button); // the server answers with a page instead
        return;
      }
      if (!answer.ok) {
        say(answer.message, 'error');
        if (reason) reason.focus();
        return;
      }
      const index = rows().indexOf(row);
      row.classList.add('vouch-leaving');
      window.setTimeout(() => {
        row.remove();
        say(answer.message, 'success');
        if (!rows().length) {
          const done = $('[data-caught-up]');
          if (done) done.hidden = false;
          const results = $('#changelist .results');
          if (results) results.hidden = true;
          return;
        }
        focusRow(index);
      }, 200);
    }

    table.addEventListener('click', (event) => {
      const button = event.target.closest('button[formaction]');
      if (!button || !window.fetch) return;
      event.preventDefault();
      decide(button, button.closest('tr'));
    });
    // Enter in a row's "reason" box rejects that row instead of submitting the bulk-action form.
    table.addEventListener('keydown', (event) => {
      const input = event.target;
      if (event.key === 'Enter' && input.classList && input.classList.contains('vouch-reason')) {
        event.preventDefault();
        const button = input.parentElement.querySelector('button[formaction]');
        if (button) decide(button, input.closest('tr'));
      } else if (event.key === 'Escape' && input.classList && input.classList.contains('vouch-reason')) {
        input.blur();
      }
    });

    if (!keyboard) return;
    document.addEventListener('keydown', (event) => {
      const target = event.target;
      if (event.ctrlKey || event.metaKey || event.altKey) return;
      if (target.closest && target.closest('input, textarea, select, [contenteditable]')) return;
      const all = rows();
      if (!all.length) return;
      const row = all[Math.max(current, 0)];
      const key = event.key;
      if (key === 'j') { focusRow(current + 1); }
      else if (key === 'k') { focusRow(current - 1); }
      else if (key === 'a') {
        if (current < 0) focusRow(0, false);
        const approve = $('button.vouch-approve', all[current]);
        if (approve) decide(approve, all[current]);
      } else if (key === 'r') {
        if (current < 0) focusRow(0, false);
        const reason = $('.vouch-reason', all[current]);
        if (reason) { reason.focus(); reason.select(); }
      } else if (key === 'e' || key === 'o' || key === 'Enter') {
        if (current < 0) return;
        const link = $('th a, td.field-author a', row);
        if (link) window.location.assign(link.href + (key === 'e' ? '#edit' : ''));
      } else {
        return;
      }
      event.preventDefault();
    });
  }

  /* ------------------------------------------------------------------ filter menus */
  function initFilters() {
    const bar = $('#changelist-filter');
    if (!bar) return;
    const menus = $all('details', bar);
    menus.forEach((menu) => {
      menu.open = false;
      menu.addEventListener('toggle', () => {
        if (menu.open) menus.forEach((other) => { if (other !== menu) other.open = false; });
      });
    });
    document.addEventListener('click', (event) => {
      if (!event.target.closest('#changelist-filter details')) menus.forEach((menu) => { menu.open = false; });
    });
  }

  /* ------------------------------------------------------------------ copy buttons */
  function initCopy() {
    $all('[data-copy]').forEach((button) => {
      button.addEventListener('click', async () => {
        const field = $(button.getAttribute('data-copy'));
        const status = button.parentElement.querySelector('.vouch-copy-status');
        field.select();
        try {
          await navigator.clipboard.writeText(field.value);
        } catch (error) {
          document.execCommand('copy');
        }
        if (status) status.textContent = 'Copied ✓';
        const note = button.getAttribute('data-copied-url');
        if (note) {
          const body = new FormData();
          body.append('csrfmiddlewaretoken', csrf());
          fetch(note, { method: 'POST', body, credentials: 'same-origin' }).catch(() => {});
        }
      });
    });
  }

  /* ------------------------------------------------------------------ the widget builder's preview */
  function initPreview() {
    const builder = $('[data-vouch-builder]');
    const frame = $('iframe[data-preview]');
    if (!builder || !frame) return;
    const form = $('#widget_form');
    const box = $('[data-preview-box]');
    let width = 1000;
    let height = 200;
    let timer = null;

    function fit() {
      const scale = Math.min(1, box.clientWidth / width);
      frame.style.width = width + 'px';
      frame.style.height = height + 'px';
      frame.style.transform = 'scale(' + scale + ')';
      box.style.height = Math.ceil(height * scale) + 'px';
    }
    function refresh() {
      const params = new URLSearchParams();
      new FormData(form).forEach((value, key) => {
        if (key === 'csrfmiddlewaretoken' || key.indexOf('widgetpick_set') === 0 || value instanceof File) return;
        params.append(key, value);
      });
      frame.src = builder.getAttribute('data-preview-url') + '?' + params.toString();
    }
    window.addEventListener('message', (event) => {
      // Only the preview frame, from this origin, may size it.
      if (event.source !== frame.contentWindow || event.origin !== window.location.origin) return;
      const data = event.data || {};
      if (data.type === 'vouch:size' && data.height >= 0 && data.height < 20000) {
        height = Math.max(60, Math.ceil(data.height) + 8);
        fit();
      }
    });
    $all('[data-preview-width]').forEach((tab) => {
      tab.addEventListener('click', () => {
        width = parseInt(tab.getAttribute('data-preview-width'), 10);
        $all('[data-preview-width]').forEach((t) => t.setAttribute('aria-pressed', t === tab ? 'true' : 'false'));
        fit();
      });
    });
    if (form) {
      form.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(refresh, 350); });
      form.addEventListener('change', () => { clearTimeout(timer); timer = setTimeout(refresh, 100); });
      refresh();
    }
    window.addEventListener('resize', fit);
    fit();

    $all('[data-allow-site]').forEach((button) => {
      // Adds the site to "Sites that may show it": the brand still saves, knowingly.
      button.addEventListener('click', () => {
        const field = $('#id_allowed_domains');
        if (!field) return;
        const site = button.getAttribute('data-allow-site');
        field.value = (field.value.trim() ? field.value.trim() + '\n' : '') + site;
        field.focus();
        button.textContent = 'Added below: save to allow it';
        button.disabled = true;
      });
    });
  }

  /* ------------------------------------------------------------------ the form builder's questions */
  function initQuestions() {
    const group = $('.vouch-questions');
    if (!group) return;
    const table = $('table', group);
    function renumber() {
      $all('tr.form-row:not(.empty-form)', table).forEach((row, index) => {
        const position = $('input.vouch-position', row);
        if (position) position.value = index;
      });
    }
    function addButtons(row) {
      const cell = $('td.field-position', row);
      if (!cell || $('.vouch-move', cell)) return;
      [['↑', -1, 'Move up'], ['↓', 1, 'Move down']].forEach(([text, delta, label]) => {
        const button = document.createElement('button');
        button.type = 'button';
        button.className = 'vouch-move';
        button.textContent = text;
        button.setAttribute('aria-label', label);
        button.addEventListener('click', () => {
          const rows = $all('tr.form-row:not(.empty-form)', table);
          const index = rows.indexOf(row);
          const other = rows[index + delta];
          if (!other) return;
          if (delta < 0) other.before(row); else other.after(row);
          renumber();
          button.focus();
        });
        cell.appendChild(button);
      });
    }
    $all('tr.form-row:not(.empty-form)', table).forEach(addButtons);
    renumber(); // the extra blank row comes after the others
    document.addEventListener('formset:added', (event) => {
      if (!event.target.closest || !event.target.closest('.vouch-questions')) return;
      addButtons(event.target);
      renumber();
    });
  }

  /* ------------------------------------------------------------------ one testimonial */
  function initEdit() {
    $all('[data-highlight]').forEach((chip) => {
      chip.addEventListener('click', () => {
        const field = $('#vouch-highlight');
        field.value = chip.getAttribute('data-highlight');
        field.focus();
      });
    });
    // While a photo or video is processing, reload the page to show its progress.
    const waiting = $('[data-vouch-refresh]');
    if (waiting) {
      const seconds = parseInt(waiting.getAttribute('data-vouch-refresh'), 10) || 5;
      window.setTimeout(() => window.location.reload(), seconds * 1000);
    }
  }

  document.addEventListener('DOMContentLoaded', () => {
    initQueue();
    initFilters();
    initCopy();
    initPreview();
    initQuestions();
    initEdit();
  });
})();
