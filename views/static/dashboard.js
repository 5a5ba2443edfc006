/* global document, fetch, setTimeout, window */
// Live status for the dashboard: polls /api/integrations and updates each store in place.
'use strict';

(function () {
  var root = document.getElementById('stores');
  if (!root) return;
  var shownKeys = root.getAttribute('data-keys');
  var shownUnconfirmed = root.getAttribute('data-unconfirmed');

  function text(el, value) {
    if (el) el.textContent = value;
  }

  function renderEvents(list, events) {
    if (!list) return;
    list.textContent = '';
    events.forEach(function (e) {
      var li = document.createElement('li');
      li.className = e.ok ? 'ok' : 'fail';
      var time = document.createElement('time');
      time.textContent = e.at;
      li.appendChild(time);
      li.appendChild(
        document.createTextNode(' ' + e.step.replace(/_/g, ' ') + (e.detail ? ' — ' + e.detail : '')),
      );
      list.appendChild(li);
    });
  }

  function update(data) {
    var keys = data.integrations
      .map(function (i) {
        return i.consumerKey;
      })
      .join(',');
    if (keys !== shownKeys || String(data.unconfirmed.length) !== shownUnconfirmed) {
      window.location.reload();
      return;
    }
    data.integrations.forEach(function (i) {
      var card = document.getElementById('store-' + i.consumerKey);
      if (!card) return;
      var status = card.querySelector('[data-field="status"]');
      if (status && status.textContent !== i.statusLabel) {
        // A store that just became active gains its "Test connection" button: reload for it.
        if (i.canCheck !== Boolean(card.querySelector('form.inline'))) {
          window.location.reload();
          return;
        }
        status.className = 'status status-' + i.status;
        text(status, i.statusLabel);
      }
      var reason = card.querySelector('[data-field="reason"]');
      if (reason) {
        reason.hidden = !i.reason;
        text(reason, i.reason || '');
      }
      text(card.querySelector('[data-field="activatedAt"]'), i.activatedAt || '—');
      text(
        card.querySelector('[data-field="linked"]'),
        i.linkedAt
          ? i.linkedAt + ' by ' + (i.linkedBy || 'a deleted user')
          : 'not yet (the identity-link login ties it to a user)',
      );
      renderEvents(card.querySelector('[data-field="events"]'), i.events);
      // A running sync's progress (N of total read); a finished run's counts come with the next reload.
      i.sync.forEach(function (s) {
        var job = card.querySelector('[data-field="job-' + s.entity + '"]');
        if (job && job.textContent !== (s.job ? s.job.label : '') && !s.job && job.textContent) {
          window.location.reload();
          return;
        }
        text(job, s.job ? s.job.label : '');
      });
    });
  }

  function poll() {
    fetch('/api/integrations', { headers: { Accept: 'application/json' }, credentials: 'same-origin' })
      .then(function (res) {
        return res.ok ? res.json() : null;
      })
      .then(function (data) {
        if (data) update(data);
      })
      .catch(function () {
        /* the next poll tries again */
      })
      .then(function () {
        setTimeout(poll, 2000);
      });
  }
  setTimeout(poll, 2000);
})();
