// KanbanBoard: columns of cards with their counts. When the page can move
// cards (`ctx.moveCard`), every card has a labelled "Move to" select, so a
// move works by keyboard; dragging a card onto another column does the same.
// While a move runs the card is busy; a failed move shows why on the card and
// the card stays where it was (the board only changes when the state does).

import { el } from "../dom.js";
import { emptyState, moreNote, numberText } from "./common.js";

/** Cards a column builds at most; the rest are counted ("and N more"). */
const MAX_CARDS = 30;
/** Columns drawn at most (the schema allows 50): the board stays readable and its DOM bounded. */
const MAX_COLUMNS = 12;
const DRAG_TYPE = "application/x-agentdeck-card";

/** The heading when the widget has no title. */
export function defaultTitle() {
  return "Board";
}

/** The card's body. */
export function render(data, ctx) {
  const columns = Array.isArray(data.columns) ? data.columns : [];
  if (columns.length === 0) return emptyState("No columns");
  const canMove = typeof ctx.moveCard === "function";
  const shown = columns.slice(0, MAX_COLUMNS);
  return [
    el(
      "div",
      { class: "w-board" },
      shown.map((column) => renderColumn(column, shown, ctx, canMove)),
    ),
    moreNote(columns.length - shown.length, "more columns"),
  ];
}

function renderColumn(column, columns, ctx, canMove) {
  const cards = Array.isArray(column.cards) ? column.cards : [];
  const shown = cards.slice(0, MAX_CARDS);
  const headingId = `${ctx.headingId}-col-${columns.indexOf(column)}`;
  const section = el(
    "section",
    { class: "w-column", "aria-labelledby": headingId, dataset: { columnId: column.id } },
    el(
      "h3",
      { class: "w-column__title", id: headingId },
      column.title,
      el("span", { class: "w-column__count" }, ` ${numberText(cards.length)}`),
    ),
    cards.length === 0
      ? emptyState("No cards")
      : el(
          "ul",
          { class: "w-column__cards" },
          shown.map((card) => renderCard(card, column, columns, ctx, canMove)),
        ),
    moreNote(cards.length - shown.length),
  );
  if (canMove) {
    section.addEventListener("dragover", (event) => {
      if (event.dataTransfer?.types.includes(DRAG_TYPE)) {
        event.preventDefault();
        section.classList.add("w-column--drop");
      }
    });
    section.addEventListener("dragleave", () => section.classList.remove("w-column--drop"));
    section.addEventListener("drop", (event) => {
      section.classList.remove("w-column--drop");
      const cardId = event.dataTransfer?.getData(DRAG_TYPE);
      if (!cardId) return;
      event.preventDefault();
      const cardElement = Array.from(section.closest(".w-board")?.querySelectorAll(".w-card") ?? []).find(
        (candidate) => candidate.dataset.cardId === cardId,
      );
      if (cardElement && cardElement.dataset.columnId !== column.id) {
        move(cardElement, cardId, column.id, ctx);
      }
    });
  }
  return section;
}

function renderCard(card, column, columns, ctx, canMove) {
  const item = el(
    "li",
    { class: "w-card", dataset: { cardId: card.id, columnId: column.id } },
    el("p", { class: "w-card__title" }, card.title),
    card.description ? el("p", { class: "w-card__description" }, card.description) : null,
    card.assignee ? el("p", { class: "w-card__assignee w-muted" }, card.assignee) : null,
  );
  if (!canMove || columns.length < 2) return item;
  const selectId = `${ctx.headingId}-move-${columns.indexOf(column)}-${column.cards.indexOf(card)}`;
  const select = el(
    "select",
    { id: selectId, class: "w-card__move" },
    columns.map((target) => el("option", { value: target.id, selected: target.id === column.id }, target.title)),
  );
  select.addEventListener("change", () => {
    if (select.value !== column.id) move(item, card.id, select.value, ctx);
  });
  item.draggable = true;
  item.addEventListener("dragstart", (event) => {
    event.dataTransfer?.setData(DRAG_TYPE, card.id);
    if (event.dataTransfer) event.dataTransfer.effectAllowed = "move";
  });
  item.append(
    el(
      "p",
      { class: "w-card__controls" },
      el("label", { for: selectId }, "Move to", el("span", { class: "w-sr-only" }, ` (${card.title})`)),
      " ",
      select,
    ),
    el("p", { class: "w-card__status", role: "status" }),
  );
  return item;
}

/** Asks the page to move the card; the board shows the result when the state changes. */
async function move(item, cardId, toColumnId, ctx) {
  if (item.getAttribute("aria-busy") === "true") return;
  const select = item.querySelector("select");
  const status = item.querySelector(".w-card__status");
  item.setAttribute("aria-busy", "true");
  item.classList.add("w-card--busy");
  item.classList.remove("w-card--failed");
  if (select) select.disabled = true;
  if (status) status.textContent = "Moving…";
  try {
    await ctx.moveCard(cardId, toColumnId);
    if (status) status.textContent = "";
  } catch (error) {
    item.classList.add("w-card--failed");
    if (status) status.textContent = `Could not move: ${error?.message ?? "unknown error"}`;
    if (select) select.value = item.dataset.columnId ?? "";
  } finally {
    item.removeAttribute("aria-busy");
    item.classList.remove("w-card--busy");
    if (select) select.disabled = false;
  }
}
