/* The counter of a sales point, made faster. Without this file the page still works: the search form GETs the
   page with ?q= and the sale form POSTs product_id + quantity pairs. With it, a scan or a name is looked up at
   {data-lookup-url}?q= (JSON list of {id, name, gtin, price_vnd, price, available}, or {error: {code, message}})
   and the line is added in place. Also: print buttons on receipts and the cash summary. */
(function () {
  "use strict";

  var BARCODE = /^\d{8,14}$/;

  function formatVnd(amount) {
    // Same output as shop.core.money.format_vnd: "240.000 ₫" with a no-break space.
    return new Intl.NumberFormat("vi-VN", { maximumFractionDigits: 0 }).format(amount) + "\u00a0\u20ab";
  }

  function fill(template, key, value) {
    return template.replace("{" + key + "}", value);
  }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text !== undefined) {
      node.textContent = text;
    }
    return node;
  }

  function initPrint() {
    document.querySelectorAll("[data-print]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () {
        window.print();
      });
    });
  }

  function initCounter(root) {
    var search = document.getElementById("counter-search");
    var input = document.getElementById("counter-q");
    var status = document.getElementById("counter-status");
    var results = document.getElementById("counter-results");
    var lines = root.querySelector("[data-lines]");
    var total = root.querySelector("[data-total]");
    var empty = root.querySelector("[data-empty]");
    var lookupUrl = root.getAttribute("data-lookup-url");
    if (!search || !input || !lines || !lookupUrl || !window.fetch) {
      return;
    }

    function msg(name) {
      return root.getAttribute("data-msg-" + name) || "";
    }

    function say(text, problem) {
      status.textContent = text;
      status.classList.toggle("counter-status--problem", Boolean(problem));
    }

    function recompute() {
      var sum = 0;
      lines.querySelectorAll("tr[data-line]").forEach(function (row) {
        var quantity = parseInt(row.querySelector("[data-quantity]").value, 10);
        var amount = (quantity > 0 ? quantity : 0) * parseInt(row.getAttribute("data-price-vnd"), 10);
        row.querySelector("[data-line-total]").textContent = formatVnd(amount);
        sum += amount;
      });
      total.textContent = formatVnd(sum);
      if (empty) {
        empty.hidden = lines.querySelector("tr[data-line]") !== null;
      }
    }

    function buildRow(product) {
      var row = element("tr");
      row.setAttribute("data-line", "");
      row.setAttribute("data-product-id", product.id);
      row.setAttribute("data-price-vnd", product.price_vnd);

      var name = element("th", "", product.name);
      name.scope = "row";
      var id = element("input");
      id.type = "hidden";
      id.name = "product_id";
      id.value = product.id;
      name.appendChild(id);
      name.appendChild(element("span", "counter-line__left", fill(msg("available"), "n", product.available)));

      var quantityCell = element("td", "num");
      var label = element("label", "visually-hidden", fill(msg("quantity"), "name", product.name));
      label.htmlFor = "qty-product-" + product.id;
      var quantity = element("input", "field__input counter-qty");
      quantity.id = "qty-product-" + product.id;  // server rows are qty-line-<n>: never the same
      quantity.type = "number";
      quantity.name = "quantity";
      quantity.value = "0";
      quantity.min = "1";
      quantity.step = "1";
      quantity.inputMode = "numeric";
      quantity.setAttribute("data-quantity", "");
      quantityCell.appendChild(label);
      quantityCell.appendChild(quantity);

      var lineTotal = element("td", "num");
      lineTotal.setAttribute("data-line-total", "");
      var actions = element("td");
      var remove = element("button", "link-button", msg("remove"));
      remove.type = "button";
      remove.setAttribute("data-remove", "");
      remove.appendChild(element("span", "visually-hidden", " " + product.name));
      actions.appendChild(remove);

      row.appendChild(name);
      row.appendChild(quantityCell);
      row.appendChild(element("td", "num", formatVnd(product.price_vnd)));
      row.appendChild(lineTotal);
      row.appendChild(actions);
      return row;
    }

    function addLine(product) {
      var row = lines.querySelector('tr[data-product-id="' + product.id + '"]');
      if (!row) {
        row = buildRow(product);
        lines.appendChild(row);
      }
      var quantity = row.querySelector("[data-quantity]");
      quantity.value = (parseInt(quantity.value, 10) || 0) + 1;
      recompute();
      results.textContent = "";
      input.value = "";
      say(fill(msg("added"), "name", product.name));
      input.focus();
    }

    function showChoices(products) {
      results.textContent = "";
      var list = element("ul", "counter-results__list");
      products.forEach(function (product) {
        var item = element("li", "counter-result");
        item.appendChild(element("span", "counter-result__name", product.name));
        item.appendChild(element("span", "counter-result__meta",
          product.price + " · " + fill(msg("available"), "n", product.available)));
        var add = element("button", "button button--small counter-result__add", msg("add"));
        add.type = "button";
        add.appendChild(element("span", "visually-hidden", " " + product.name));
        add.addEventListener("click", function () {
          addLine(product);
        });
        item.appendChild(add);
        list.appendChild(item);
      });
      results.appendChild(list);
    }

    function answer(query, response, body) {
      if (!response.ok) {
        say((body && body.error && body.error.message) || msg("failed"), true);
        return;
      }
      if (body.length === 1) {
        addLine(body[0]);
      } else if (body.length === 0) {
        results.textContent = "";
        say(fill(msg("none"), "q", query), true);
      } else {
        showChoices(body);
        say(fill(msg("choose"), "n", body.length));
      }
    }

    search.addEventListener("submit", function (event) {
      event.preventDefault();
      var query = input.value.trim();
      if (!query) {
        return;
      }
      // A scanner may send the next code before this answer arrives: clear the box now so codes never run together.
      if (BARCODE.test(query)) {
        input.value = "";
      }
      fetch(lookupUrl + "?q=" + encodeURIComponent(query), {
        headers: { Accept: "application/json" }, credentials: "same-origin"
      }).then(function (response) {
        return response.json().then(function (body) {
          answer(query, response, body);
        });
      }).catch(function () {
        say(msg("failed"), true);
      });
    });

    lines.addEventListener("input", function (event) {
      if (event.target.matches("[data-quantity]")) {
        recompute();
      }
    });

    // Enter in a quantity box must not ring up the sale (a scan while the box has focus ends with Enter).
    lines.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && event.target.matches("[data-quantity]")) {
        event.preventDefault();
        input.focus();
      }
    });

    lines.addEventListener("click", function (event) {
      var remove = event.target.closest("[data-remove]");
      if (remove) {
        event.preventDefault();
        remove.closest("tr").remove();
        recompute();
        input.focus();
      }
    });

    // Products listed by the server (a search made before this script ran): add them in place too.
    results.addEventListener("click", function (event) {
      var link = event.target.closest("a[data-add]");
      if (link) {
        event.preventDefault();
        addLine({
          id: link.getAttribute("data-id"), name: link.getAttribute("data-name"),
          price_vnd: parseInt(link.getAttribute("data-price-vnd"), 10), available: link.getAttribute("data-available")
        });
      }
    });
  }

  function init() {
    initPrint();
    document.querySelectorAll("[data-counter]").forEach(initCounter);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
}());
