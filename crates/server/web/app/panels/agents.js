// provisional: replaced by the agents panel (H4). Writes a heading and "coming".

import { el } from "../dom.js";

/** provisional: a heading and "coming". */
export function mount(container) {
  container.replaceChildren(el("h2", {}, "Agents"), el("p", {}, "coming"));
  return () => container.replaceChildren();
}
