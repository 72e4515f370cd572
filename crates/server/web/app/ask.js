// The question box: a person asks the Dashboard Agent (`POST /api/ask`), the
// answer's widgets land on the dashboard through the sync socket and its text
// appears under the box.
//
// The text shown is the state's `lastAnswer` (written by the gateway together
// with the widgets), so every open tab shows the same answer; until a state
// carries one, the response of this tab's own request is shown. Quick
// questions are buttons for the questions the agent understands best, plus
// one "How is <project> doing" per project of the workspace. A refused
// question (422, e.g. empty or too long) is reported next to the field, and
// nothing typed is lost.

import { ApiError } from "./api.js";
import { el } from "./dom.js";

/** Longest question the server accepts (and the field's `maxlength`). */
export const MAX_QUESTION = 500;

const FIXED_QUESTIONS = [
  { label: "Workspace overview", question: "workspace overview" },
  { label: "At risk this week", question: "what is at risk this week" },
  { label: "Recent activity", question: "recent team activity" },
];

/**
 * Wires the question form inside `section`.
 * Returns `{ update(state), loadProjects(), reset() }`.
 */
export function createAsk(section, { api, notify }) {
  const form = section.querySelector('form[data-role="ask"]');
  const input = form.elements.namedItem("question");
  const submit = form.querySelector('[data-role="ask-submit"]');
  const error = form.querySelector('[data-role="question-error"]');
  const quick = form.querySelector('[data-role="quick-questions"]');
  const answer = section.querySelector('[data-role="answer"]');
  let busy = false;
  let shownAnswerJson = null;

  input.maxLength = MAX_QUESTION;

  function showError(text) {
    error.textContent = text ?? "";
    error.hidden = !text;
    if (text) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
  }

  function showAnswer(text, question) {
    // The live region stays in the page (only emptied), so screen readers announce what arrives in it.
    if (!text) {
      answer.replaceChildren();
      return;
    }
    answer.replaceChildren(
      question ? el("p", { class: "answer-question" }, `You asked: ${question}`) : null,
      el("p", { class: "answer-text" }, text),
    );
  }

  function setBusy(next) {
    busy = next;
    form.setAttribute("aria-busy", String(next));
    submit.disabled = next;
    submit.textContent = next ? "Asking…" : "Ask";
    for (const button of quick.querySelectorAll("button")) button.disabled = next;
  }

  async function ask(body) {
    if (busy) return;
    showError(null);
    setBusy(true);
    try {
      const response = await api("/api/ask", { method: "POST", body });
      // The state's lastAnswer wins once it arrives; until then this tab shows its own response.
      if (typeof response?.text === "string") showAnswer(response.text, body.question);
      return true;
    } catch (failure) {
      if (failure instanceof ApiError && failure.status === 422) {
        const messages = failure.messagesFor("/question");
        showError(messages.length ? `The question ${messages.join("; ")}.` : failure.message);
        input.focus();
      } else if (failure instanceof ApiError && failure.status !== 401) {
        showError(`The question could not be answered: ${failure.message}`);
      }
      return false;
    } finally {
      setBusy(false);
    }
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const question = input.value.trim();
    if (!question) {
      showError("Type a question first.");
      input.focus();
      return;
    }
    if (question.length > MAX_QUESTION) {
      showError(`A question has at most ${MAX_QUESTION} characters.`);
      return;
    }
    if (await ask({ question })) input.value = "";
  });

  function quickButton({ label, question, projectId }) {
    return el("button", { type: "button", class: "chip", onclick: () => ask({ question, projectId }) }, label);
  }

  function renderQuick(projects) {
    const projectQuestions = projects.map((project) => ({
      label: `How is ${project.name} doing`,
      question: `how is ${project.name} doing`,
      projectId: project.id,
    }));
    quick.replaceChildren(...[...FIXED_QUESTIONS, ...projectQuestions].map(quickButton));
  }

  renderQuick([]);

  return {
    /** Shows the state's `lastAnswer` when it changed (another tab's question, or this one's). */
    update(state) {
      const last = state?.lastAnswer;
      const json = last ? JSON.stringify(last) : null;
      if (json === shownAnswerJson) return;
      shownAnswerJson = json;
      if (last && typeof last.text === "string") showAnswer(last.text, last.question);
    },
    /** Adds one quick question per active project. */
    async loadProjects() {
      try {
        const page = await api("/api/projects?limit=200");
        const projects = (page?.items ?? []).filter((project) => !project.archived && typeof project.name === "string");
        renderQuick(projects);
      } catch (failure) {
        if (!(failure instanceof ApiError && failure.status === 401)) {
          notify(`The project list for the quick questions could not be loaded: ${failure.message}`, "error");
        }
      }
    },
    /** Forgets what was shown (sign-out). */
    reset() {
      shownAnswerJson = null;
      showAnswer(null);
      showError(null);
      input.value = "";
      renderQuick([]);
    },
  };
}
