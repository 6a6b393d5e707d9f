/*
 * Integration pages: the searchable account multi-selects, the Account Filter checked as it is
 * typed (and its Test filter action), and copying the configuration ID. No dependencies.
 */
(function () {
  "use strict";

  function debounce(fn, ms) {
    let timer;
    return function (...args) {
      clearTimeout(timer);
      timer = setTimeout(() => fn.apply(this, args), ms);
    };
  }

  async function getJson(url, params) {
    const response = await fetch(`${url}?${new URLSearchParams(params)}`, {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    });
    if (!response.ok) {
      throw new Error(`The server answered ${response.status}.`);
    }
    return response.json();
  }

  function element(tag, attrs, ...children) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([key, value]) => {
      if (key === "className") node.className = value;
      else if (key === "dataset") Object.assign(node.dataset, value);
      else node.setAttribute(key, value);
    });
    node.append(...children);
    return node;
  }

  /* --- Account Ids / Restricted Account Ids -------------------------------------------------- */
  // The server sends one page of matching accounts at a time (scrolling to the end of the list
  // loads the next), so thousands of accounts never reach the page at once.

  function AccountPicker(root) {
    const select = root.querySelector("[data-picker-values]");
    const chips = root.querySelector("[data-picker-chips]");
    const search = root.querySelector("[data-picker-search]");
    const results = root.querySelector("[data-picker-results]");
    const url = root.dataset.searchUrl;
    let query = "";
    let page = 1;
    let hasMore = false;
    let loading = false;
    let requestNumber = 0;
    let active = -1;

    function isSelected(id) {
      return Array.from(select.options).some((option) => option.value === id);
    }

    function renderChips() {
      chips.replaceChildren(
        ...Array.from(select.options).map((option) =>
          element(
            "li",
            { className: "account-picker-chip", dataset: { value: option.value } },
            element("span", {}, option.text),
            element("button", {
              type: "button",
              className: "btn-close",
              "aria-label": `Remove ${option.text}`,
              dataset: { pickerRemove: option.value },
            })
          )
        )
      );
    }

    function markOptions() {
      results.querySelectorAll("[role=option]").forEach((item) => {
        item.setAttribute("aria-selected", String(isSelected(item.dataset.value)));
      });
    }

    function toggle(id, label) {
      const existing = Array.from(select.options).find((option) => option.value === id);
      if (existing) existing.remove();
      else select.add(new Option(label, id, true, true));
      renderChips();
      markOptions();
      root.classList.remove("is-invalid");
    }

    function items() {
      return Array.from(results.querySelectorAll("[role=option]"));
    }

    function setActive(index) {
      const all = items();
      if (!all.length) return;
      active = Math.max(0, Math.min(index, all.length - 1));
      all.forEach((item, i) => item.classList.toggle("active", i === active));
      all[active].scrollIntoView({ block: "nearest" });
      search.setAttribute("aria-activedescendant", all[active].id);
    }

    function open() {
      results.hidden = false;
      search.setAttribute("aria-expanded", "true");
    }

    function close() {
      results.hidden = true;
      search.setAttribute("aria-expanded", "false");
      search.removeAttribute("aria-activedescendant");
      active = -1;
    }

    async function load(reset) {
      if (reset) page = 1;
      const number = ++requestNumber;
      loading = true;
      let data;
      try {
        data = await getJson(url, { q: query, page });
      } catch (error) {
        if (number === requestNumber) {
          results.replaceChildren(
            element("div", { className: "list-group-item text-danger" }, `Search failed: ${error.message}`)
          );
          open();
          loading = false;
        }
        return;
      }
      if (number !== requestNumber) return; // a newer search has been sent
      loading = false;
      if (reset) {
        results.replaceChildren();
        active = -1;
      }
      results.querySelector("[data-more]")?.remove();
      const offset = items().length;
      data.results.forEach((account, i) => {
        results.append(
          element(
            "div",
            {
              id: `${search.id}_option_${offset + i}`,
              role: "option",
              className: "list-group-item list-group-item-action account-picker-option",
              "aria-selected": String(isSelected(account.id)),
              dataset: { value: account.id, label: account.label },
            },
            account.label
          )
        );
      });
      hasMore = data.has_more;
      if (hasMore) {
        results.append(
          element("div", { className: "list-group-item small text-body-secondary", dataset: { more: "" } }, "Scroll for more…")
        );
      }
      if (!items().length) {
        results.append(
          element("div", { className: "list-group-item text-body-secondary" }, query ? `No account matches “${query}”.` : "No accounts yet.")
        );
      }
      open();
    }

    const searchSoon = debounce(() => load(true), 200);

    search.addEventListener("input", () => {
      query = search.value.trim();
      searchSoon();
    });
    search.addEventListener("focus", () => {
      if (!items().length) load(true);
      else open();
    });
    search.addEventListener("keydown", (event) => {
      if (event.key === "ArrowDown") {
        event.preventDefault();
        if (results.hidden) open();
        setActive(active + 1);
      } else if (event.key === "ArrowUp") {
        event.preventDefault();
        setActive(active - 1);
      } else if (event.key === "Enter") {
        // Enter picks an account; it never submits the form from here.
        event.preventDefault();
        const item = items()[active];
        if (item) toggle(item.dataset.value, item.dataset.label);
      } else if (event.key === "Escape") {
        close();
      } else if (event.key === "Backspace" && !search.value && select.options.length) {
        const last = select.options[select.options.length - 1];
        toggle(last.value, last.text);
      }
    });
    results.addEventListener("mousedown", (event) => event.preventDefault()); // keep focus
    results.addEventListener("click", (event) => {
      const item = event.target.closest("[role=option]");
      if (item) toggle(item.dataset.value, item.dataset.label);
    });
    results.addEventListener("scroll", () => {
      const nearEnd = results.scrollTop + results.clientHeight >= results.scrollHeight - 40;
      if (nearEnd && hasMore && !loading) {
        page += 1;
        load(false);
      }
    });
    chips.addEventListener("click", (event) => {
      const button = event.target.closest("[data-picker-remove]");
      if (!button) return;
      const option = Array.from(select.options).find((o) => o.value === button.dataset.pickerRemove);
      if (option) toggle(option.value, option.text);
      search.focus();
    });
    root.addEventListener("focusout", (event) => {
      if (root.contains(event.relatedTarget)) return;
      close();
      // Left-over search text would look like an account that was typed in but not chosen.
      if (search.value) {
        search.value = "";
        query = "";
        results.replaceChildren();
      }
    });
    root.addEventListener("click", (event) => {
      if (event.target === root) search.focus();
    });
  }

  /* --- Account Filter ------------------------------------------------------------------------ */

  function pointer(text, column) {
    // The filter on one line with a caret under the column the error is at.
    const line = text.replace(/\s/g, " ");
    return element("pre", { className: "filter-pointer mb-0", "aria-hidden": "true" }, `${line}\n${" ".repeat(Math.max(column - 1, 0))}^`);
  }

  function AccountFilter(root) {
    const textarea = root.querySelector("textarea");
    const status = root.querySelector("[data-filter-status]");
    const result = root.querySelector("[data-filter-result]");
    const testButton = root.querySelector("[data-filter-test]");
    let requestNumber = 0;

    function showError(data) {
      textarea.classList.add("is-invalid");
      textarea.classList.remove("is-valid");
      status.className = "flex-fill small text-danger";
      status.replaceChildren(element("strong", {}, data.error), pointer(textarea.value, data.column));
    }

    function showOk(data) {
      textarea.classList.remove("is-invalid");
      status.className = "flex-fill small text-success";
      status.textContent = data.summary;
    }

    async function ask(url) {
      const number = ++requestNumber;
      let data;
      try {
        data = await getJson(url, { account_filter: textarea.value });
      } catch (error) {
        status.className = "flex-fill small text-warning";
        status.textContent = `Could not check the filter: ${error.message}`;
        return null;
      }
      if (number !== requestNumber) return null; // the person kept typing
      // The live answer replaces any error from the last save.
      root.querySelectorAll(".invalid-feedback").forEach((node) => node.remove());
      if (data.ok) showOk(data);
      else showError(data);
      return data;
    }

    textarea.addEventListener(
      "input",
      debounce(() => {
        result.replaceChildren();
        ask(textarea.dataset.filterCheckUrl);
      }, 300)
    );
    testButton.addEventListener("click", async () => {
      const data = await ask(textarea.dataset.filterTestUrl);
      if (!data) return;
      if (!data.ok) {
        result.replaceChildren();
        return;
      }
      const list = element("ul", { className: "mb-0" }, ...data.sample.map((account) => element("li", {}, account.label)));
      const more = data.matched - data.sample.length;
      result.replaceChildren(
        element(
          "div",
          { className: "alert alert-light border mb-0", "data-testid": "filter-test-result" },
          element("div", { className: "fw-semibold" }, `${data.matched} of ${data.total} accounts match.`),
          data.sample.length ? list : "",
          more > 0 ? element("div", { className: "text-body-secondary" }, `…and ${more} more.`) : ""
        )
      );
    });
  }

  /* --- Copy the configuration ID ------------------------------------------------------------- */

  async function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return;
    }
    // Plain-http deployments have no clipboard API; a selected textarea still copies.
    const area = element("textarea", { readonly: "", className: "position-fixed opacity-0" }, text);
    document.body.append(area);
    area.select();
    const copied = document.execCommand("copy");
    area.remove();
    if (!copied) throw new Error("copy refused");
  }

  document.addEventListener("click", async (event) => {
    const button = event.target.closest("[data-copy-target]");
    if (!button) return;
    const text = document.querySelector(button.dataset.copyTarget).textContent.trim();
    const label = button.querySelector("[data-copy-label]") || button;
    const original = label.textContent;
    try {
      await copyText(text);
      label.textContent = "Copied";
    } catch (error) {
      label.textContent = "Press Ctrl+C to copy";
      window.getSelection().selectAllChildren(document.querySelector(button.dataset.copyTarget));
    }
    setTimeout(() => {
      label.textContent = original;
    }, 2000);
  });

  document.querySelectorAll("[data-account-picker]").forEach(AccountPicker);
  document.querySelectorAll("[data-account-filter]").forEach(AccountFilter);
})();
