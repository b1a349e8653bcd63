/* Small enhancements. Every page works without this file: forms and links do the real work. */
(function () {
  "use strict";

  document.documentElement.classList.add("js");

  /* Sort select: apply on change (the "Sort" button is there for people without JavaScript). */
  function initAutosubmit() {
    document.querySelectorAll("form[data-autosubmit]").forEach(function (form) {
      form.addEventListener("change", function () {
        form.submit();
      });
    });
  }

  /* Filters start open (usable without JavaScript); on small screens fold them to show results first. */
  function initCollapsibleFilters() {
    document.querySelectorAll("details[data-collapse-below]").forEach(function (details) {
      var query = window.matchMedia("(max-width: " + details.getAttribute("data-collapse-below") + ")");
      if (query.matches) {
        details.open = false;
      }
    });
  }

  /* As-you-type suggestions for the header search: an ARIA 1.2 combobox over a listbox of links.
     GET {data-suggest-url}?q= returns {"suggestions": [{"slug", "name", "url"}]}. Any failure (404, network,
     bad JSON) switches suggestions off quietly; the search form keeps working. */
  function initSuggestions() {
    var input = document.getElementById("site-search-input");
    var list = document.getElementById("site-search-suggestions");
    var status = document.getElementById("site-search-status");
    if (!input || !list || !window.fetch) {
      return;
    }
    var url = input.getAttribute("data-suggest-url");
    var disabled = !url;
    var timer = null;
    var controller = null;
    var active = -1;
    var lastQuery = "";

    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-controls", list.id);
    input.setAttribute("aria-expanded", "false");

    function options() {
      return list.querySelectorAll('[role="option"]');
    }

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function announce(text) {
      if (status) {
        status.textContent = text;
      }
    }

    function setActive(index) {
      var items = options();
      if (!items.length) {
        return;
      }
      active = (index + items.length) % items.length;
      items.forEach(function (item, i) {
        item.setAttribute("aria-selected", i === active ? "true" : "false");
      });
      input.setAttribute("aria-activedescendant", items[active].id);
      items[active].scrollIntoView({ block: "nearest" });
    }

    function render(suggestions) {
      list.textContent = "";
      active = -1;
      suggestions.forEach(function (suggestion, i) {
        if (!suggestion || typeof suggestion.url !== "string" || typeof suggestion.name !== "string") {
          return;
        }
        var item = document.createElement("li");
        item.id = "site-search-option-" + i;
        item.setAttribute("role", "option");
        item.setAttribute("aria-selected", "false");
        var link = document.createElement("a");
        link.href = suggestion.url;
        link.tabIndex = -1;
        link.textContent = suggestion.name;
        item.appendChild(link);
        list.appendChild(item);
      });
      var count = options().length;
      if (count) {
        list.hidden = false;
        input.setAttribute("aria-expanded", "true");
        announce((input.getAttribute("data-msg-count") || "{n}").replace("{n}", String(count)));
      } else {
        close();
        announce(input.getAttribute("data-msg-none") || "");
      }
    }

    function fetchSuggestions(query) {
      if (controller) {
        controller.abort();
      }
      controller = window.AbortController ? new AbortController() : null;
      var separator = url.indexOf("?") === -1 ? "?" : "&";
      window.fetch(url + separator + "q=" + encodeURIComponent(query), {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
        signal: controller ? controller.signal : undefined
      }).then(function (response) {
        if (!response.ok) {
          // 404: the endpoint does not exist on this server; stop asking. Other errors: skip this answer.
          if (response.status === 404) {
            disabled = true;
          }
          throw new Error("suggest " + response.status);
        }
        return response.json();
      }).then(function (data) {
        if (query === lastQuery && data && Array.isArray(data.suggestions)) {
          render(data.suggestions);
        }
      }).catch(function () {
        if (disabled) {
          close();
        }
      });
    }

    input.addEventListener("input", function () {
      var query = input.value.trim();
      lastQuery = query;
      window.clearTimeout(timer);
      if (disabled || query.length < 2) {
        close();
        return;
      }
      timer = window.setTimeout(function () {
        fetchSuggestions(query);
      }, 150);
    });

    input.addEventListener("keydown", function (event) {
      if (list.hidden) {
        if (event.key === "ArrowDown" && options().length) {
          list.hidden = false;
          input.setAttribute("aria-expanded", "true");
          setActive(0);
          event.preventDefault();
        }
        return;
      }
      if (event.key === "ArrowDown") {
        setActive(active + 1);
        event.preventDefault();
      } else if (event.key === "ArrowUp") {
        setActive(active - 1);
        event.preventDefault();
      } else if (event.key === "Escape") {
        close();
        event.preventDefault();
      } else if (event.key === "Enter" && active >= 0) {
        var link = options()[active].querySelector("a");
        if (link) {
          event.preventDefault();
          window.location.assign(link.href);
        }
      }
    });

    input.addEventListener("blur", function () {
      // Let a click on a suggestion land before the list disappears.
      window.setTimeout(close, 200);
    });

    list.addEventListener("mousedown", function (event) {
      // Keep focus in the input while a suggestion is clicked.
      event.preventDefault();
    });
  }

  function init() {
    initAutosubmit();
    initCollapsibleFilters();
    initSuggestions();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
