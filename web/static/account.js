// The signed-in person's account: set up two-factor authentication (QR code, a code from the app, the
// recovery codes shown once) or turn it off; an admin also sets whether the tenant requires it.
import { el, session, withLogin } from "./common.js";

const $ = (id) => document.getElementById(id);

// Like common.js's api(), but a refused code keeps the problem body to show its reason.
async function call(path, method = "GET", body = undefined) {
  const options = { method, headers: { Authorization: `Bearer ${session.token}` } };
  if (body !== undefined) { options.headers["Content-Type"] = "application/json"; options.body = JSON.stringify(body); }
  const response = await fetch(path, options);
  if (response.status === 401) { session.logout(); throw new Error("logged out"); }
  const data = await response.json().catch(() => null);
  return { ok: response.ok, data };
}

const reason = (data) => (data && data.errors && data.errors.length ? data.errors.map((e) => e.reason).join("; ") : (data && data.detail) || "request failed");

function render(status) {
  $("tf-status").textContent = status.enabled
    ? `On: login asks for a code from your authenticator app. ${status.recovery_codes_left} recovery codes left.`
    : "Off: login asks only for your password.";
  $("tf-start").hidden = status.enabled;
  $("tf-disable").hidden = !status.enabled || status.required;
  if (status.enabled && status.required) $("tf-status").textContent += " Your organisation requires it.";
}

async function refresh() {
  const { ok, data } = await call("/api/v1/auth/2fa");
  if (!ok) throw new Error(reason(data));
  render(data);
}

async function startSetup() {
  const { ok, data } = await call("/api/v1/auth/2fa/setup", "POST");
  if (!ok) { $("tf-status").textContent = reason(data); return; }
  $("tf-qr").innerHTML = data.qr_svg;  // drawn by our server from the otpauth:// URI
  $("tf-secret").textContent = data.secret;
  $("tf-recovery").hidden = true;
  $("tf-setup").hidden = false;
  $("tf-start").hidden = true;
  $("tf-code").focus();
}

async function confirm(e) {
  e.preventDefault();
  $("tf-setup-error").textContent = "";
  const { ok, data } = await call("/api/v1/auth/2fa/confirm", "POST", { code: $("tf-code").value.trim() });
  if (!ok) { $("tf-setup-error").textContent = reason(data); return; }
  $("tf-setup").hidden = true;
  $("tf-qr").replaceChildren();
  $("tf-secret").textContent = "";
  $("tf-code").value = "";
  $("tf-recovery-codes").replaceChildren(...data.recovery_codes.map((code) => el("li", {}, code)));
  $("tf-recovery").hidden = false;
  await refresh();
}

async function turnOff(e) {
  e.preventDefault();
  $("tf-disable-error").textContent = "";
  const body = { password: $("tf-disable-password").value, code: $("tf-disable-code").value.trim() };
  const { ok, data } = await call("/api/v1/auth/2fa/disable", "POST", body);
  if (!ok) { $("tf-disable-error").textContent = reason(data); return; }
  $("tf-disable-password").value = ""; $("tf-disable-code").value = "";
  $("tf-recovery").hidden = true;
  await refresh();
}

async function saveRequirement() {
  const { ok, data } = await call("/api/v1/admin/security", "PUT", { require_two_factor: $("tf-require").checked });
  $("tf-require-status").textContent = ok ? "Saved." : reason(data);
  $("tf-require-status").classList.toggle("ok", ok);
  $("tf-require-status").classList.toggle("failed", !ok);
}

async function start() {
  $("account").hidden = false;
  $("me").textContent = session.user ? `${session.user.name} (${session.user.role})` : "";
  $("logout").addEventListener("click", () => session.logout());
  $("tf-start").addEventListener("click", startSetup);
  $("tf-setup").addEventListener("submit", confirm);
  $("tf-disable").addEventListener("submit", turnOff);
  await refresh();
  if (session.user && session.user.role === "admin") {
    const { ok, data } = await call("/api/v1/admin/security");
    if (ok) {
      $("tf-require").checked = data.require_two_factor;
      $("tf-require-save").addEventListener("click", saveRequirement);
      $("tf-tenant").hidden = false;
    }
  }
  document.body.dataset.ready = "1";
}

withLogin($("login"), start);
