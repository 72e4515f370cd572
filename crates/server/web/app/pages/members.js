// provisional: replaced by the members page (H4). Writes a heading and "coming".

import { el } from "../dom.js";

/** provisional: a heading and "coming". */
export function mount(container) {
  container.replaceChildren(el("h1", {}, "Members"), el("p", {}, "coming"));
  return () => container.replaceChildren();
}
