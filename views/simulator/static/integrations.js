/* global window, document, fetch, URLSearchParams, FormData, setInterval, clearInterval, alert, confirm */
// Behaviour of Magento's integration.js (permissions dialog, identity-link popup), without jQuery.
'use strict';

(function () {
  var formKeyMeta = document.querySelector('meta[name="form-key"]');
  var formKey = formKeyMeta ? formKeyMeta.getAttribute('content') : '';

  // Grid: Delete and Reset ask first.
  document.querySelectorAll('form[data-confirm]').forEach(function (form) {
    form.addEventListener('submit', function (event) {
      if (!confirm(form.getAttribute('data-confirm'))) event.preventDefault();
    });
  });

  // New integration: checking a resource checks its parents, unchecking clears its children.
  var tree = document.querySelector('[data-resource-tree]');
  if (tree) {
    var radios = document.querySelectorAll('input[name="resource_access"]');
    var syncTree = function () {
      var all = document.querySelector('input[name="resource_access"][value="all"]');
      tree.hidden = Boolean(all && all.checked);
    };
    radios.forEach(function (radio) {
      radio.addEventListener('change', syncTree);
    });
    syncTree();
    tree.addEventListener('change', function (event) {
      var box = event.target;
      if (!box || box.type !== 'checkbox') return;
      var item = box.closest('li');
      if (box.checked) {
        var parent = item.parentElement.closest('li');
        while (parent) {
          var parentBox = parent.querySelector(':scope > label > input[type="checkbox"]');
          if (parentBox) parentBox.checked = true;
          parent = parent.parentElement.closest('li');
        }
      } else {
        item.querySelectorAll('input[type="checkbox"]').forEach(function (child) {
          child.checked = false;
        });
      }
    });
  }

  // Permissions page, exchange flow: TokensExchange over fetch, then the identity-link popup.
  var allow = document.getElementById('allow-form');
  if (allow && allow.getAttribute('data-flow') === 'exchange') {
    var status = document.getElementById('popup-status');
    var button = allow.querySelector('button[type="submit"]');
    var gridUrl = allow.getAttribute('data-grid-url');

    var show = function (text, kind) {
      status.textContent = text;
      status.className = 'message message-' + kind;
      status.hidden = false;
    };

    allow.addEventListener('submit', function (event) {
      event.preventDefault();
      button.disabled = true;
      show('Posting the credentials to the endpoint…', 'info');
      fetch(allow.action, {
        method: 'POST',
        credentials: 'same-origin',
        headers: { Accept: 'application/json', 'X-Form-Key': formKey },
        body: new URLSearchParams(new FormData(allow)),
      })
        .then(function (response) {
          return response.json().then(function (data) {
            return { ok: response.ok, data: data };
          });
        })
        .then(function (result) {
          var data = result.data;
          if (!result.ok) {
            if (data._redirect) {
              window.location.href = data._redirect;
              return;
            }
            show(data.error || 'Activation failed.', 'error');
            button.disabled = false;
            return;
          }
          // Like Magento, only open the popup when all three values came back.
          if (!data.identity_link_url || !data.oauth_consumer_key || !data.popup_content) {
            show('The store answered without an identity link.', 'error');
            button.disabled = false;
            return;
          }
          show(data.popup_content, 'success');
          openPopup(data.popup_url, data.success_call_back || allow.getAttribute('data-success-url'));
        })
        .catch(function () {
          show('The request failed. Is the simulator still running?', 'error');
          button.disabled = false;
        });
    });

    var openPopup = function (url, successUrl) {
      var popup = window.open(url, 'integration-identity-link', 'width=680,height=510');
      if (!popup) {
        alert('Popup Blocker is enabled! Please add this site to your exception list.');
        button.disabled = false;
        return;
      }
      var timer = setInterval(function () {
        var done = popup.closed;
        if (!done) {
          try {
            done = popup.location.href === successUrl;
          } catch {
            // Cross-origin while the integrator's page is shown.
          }
        }
        if (done) {
          clearInterval(timer);
          window.location.href = gridUrl;
        }
      }, 500);
    };
  }
})();
