// The header's sign-in button and dialog, shared by the workspace viewer and the views figure page: a token is
// checked by the server (/api/signin), kept in localStorage, and the page is told after signing in or out.
import { postJson } from "./api.js";
import { state, subscribe, update } from "./store.js";

const $ = (sel) => document.querySelector(sel);

function showUser() {
  $("#signin-btn").textContent = state.userId ? `Sign out ${state.userId}` : "Sign in";
}

// at page start: the token kept from an earlier visit names a user, or is dropped (revoked, or another server's)
export async function checkToken() {
  try {
    const r = await postJson("/api/signin", { token: state.token });
    update({ userId: r.userId });
  } catch (e) {
    localStorage.removeItem("sortingview.token");
    update({ token: null, userId: null });
  }
}

export function wireSignIn({ afterSignIn, afterSignOut }) {
  subscribe((keys) => { if (keys.has("userId")) showUser(); });
  showUser();
  $("#signin-btn").addEventListener("click", async () => {
    if (state.userId) {
      localStorage.removeItem("sortingview.token");
      update({ token: null, userId: null });
      await afterSignOut();
      return;
    }
    $("#signin-error").textContent = "";
    $("#signin-dialog").showModal();
  });
  $("#signin-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const token = $("#token-input").value.trim();
    try {
      const r = await postJson("/api/signin", { token });
      localStorage.setItem("sortingview.token", token);
      update({ token, userId: r.userId });
      $("#signin-dialog").close();
      $("#token-input").value = "";
      await afterSignIn();
    } catch (e) {
      $("#signin-error").textContent = e.message;
    }
  });
  $("#signin-cancel").addEventListener("click", () => $("#signin-dialog").close());
}
