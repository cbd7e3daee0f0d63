// The few lines of JavaScript microblog has; every page works without them. htmx itself keeps
// every 4xx/5xx answer out of the page (noSwap in base.html's htmx-config; the post form lets
// its 422 in with hx-status:422), so a hx-swap="delete" target also stays when a request fails.

// Where the message about a failed request goes, decided here and nowhere else: right after the
// form of the control that was used (or the element itself), else the flash area. One message at
// a time; no text clears it. Text only: nothing from a response is parsed into the page.
function say(source, text) {
  const anchor = source?.isConnected ? source.closest("form") || source : null;
  const flashes = document.getElementById("flashes");
  const old = anchor ? anchor.nextElementSibling : flashes.lastElementChild;
  if (old?.hasAttribute("data-message")) old.remove();
  if (!text) return;
  const message = Object.assign(document.createElement("div"), {
    className: "alert alert-danger small py-1 px-2 my-2", textContent: text});
  message.setAttribute("role", "alert");
  message.dataset.message = "";
  anchor ? anchor.after(message) : flashes.append(message);
}

// The app's own error answer is <p data-message> (errors/_fragment.html), read in a detached
// document; anything else (a proxy's 502 page, a whole page) gets the generic message.
function messageOf(ctx) {
  const own = new DOMParser().parseFromString(ctx.text, "text/html").querySelector("[data-message]");
  return own?.textContent.trim() || document.body.dataset.msgServer;
}

// The answer is in; htmx has applied noSwap and hx-status (ctx.swap) but swapped nothing yet.
document.addEventListener("htmx:before:swap", (event) => {
  const ctx = event.detail.ctx;
  const failed = ctx.response.status >= 400 && ctx.swap === "none";
  if (failed) event.preventDefault();  // noSwap skips only the main swap, not <hx-partial>/oob parts
  // A refusal (a 4xx the form shows, or a message here) makes an earlier "done!" stale: one message at a time.
  if (ctx.response.status >= 400) document.querySelectorAll("#flashes .alert-success").forEach((old) => old.remove());
  say(ctx.sourceElement, failed ? messageOf(ctx) : "");  // else it worked: an old message is stale
  if (ctx.swap.startsWith("delete") && ctx.target?.contains(document.activeElement)) focusAfter(ctx.target);
});

// The server could not be reached (stopped, offline, timed out): there is no answer.
document.addEventListener("htmx:error", ({detail: {ctx}}) => {
  if (!ctx.response) say(ctx.sourceElement, document.body.dataset.msgNetwork);
});

// Focus for a post about to go away: the next post, else the previous, else the heading above.
function focusAfter(post) {
  const above = (el) => el.compareDocumentPosition(post) & Node.DOCUMENT_POSITION_FOLLOWING;
  const next = [post.nextElementSibling, post.previousElementSibling].find((el) => el?.matches("article.post"))
    || [...document.querySelectorAll(":is(h1, h2, h3, h4, h5, h6)")].findLast(above)
    || document.getElementById("content");
  if (!next.hasAttribute("tabindex")) next.tabIndex = -1;
  next.focus();
}

// The reader's time zone, remembered in a cookie for the times the server writes (UTC until then,
// or the zone saved on their profile).
const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
if (zone && !document.cookie.split("; ").includes(`tz=${zone}`)) {
  document.cookie = `tz=${zone}; path=/; max-age=31536000; samesite=lax`;
}

// The post box's counter: characters left, counted as the server counts them (posts/text.py):
// grapheme clusters, every web address as data-url-length. Red past the limit (the server then
// refuses the post and keeps its text: nothing is cut); said to screen readers near the limit.
const graphemes = new Intl.Segmenter(undefined, {granularity: "grapheme"});
const graphemeCount = (text) => [...graphemes.segment(text)].length;

function postLength(box) {
  const text = box.value.trim();
  let count = 0, end = 0;
  for (const found of text.matchAll(new RegExp(box.dataset.urlPattern, "g"))) {
    count += graphemeCount(text.slice(end, found.index)) + Number(box.dataset.urlLength);
    end = found.index + found[0].length;
  }
  return count + graphemeCount(text.slice(end));
}

function updateCounter(box) {
  const counter = document.getElementById(`${box.id}-hint`)?.querySelector(".post-counter");
  if (!counter) return;
  const left = Number(box.dataset.maxChars) - postLength(box);
  counter.textContent = counter.dataset.counterText.replace("{n}", left);
  counter.classList.toggle("text-danger", left < 0);
  counter.classList.toggle("fw-semibold", left < 0);
  if ([20, 10, 0, -1].includes(left)) document.getElementById("post-counter-announce").textContent = counter.textContent;
}

const counted = (root) => root.querySelectorAll?.("textarea[data-max-chars]").forEach(updateCounter);
document.addEventListener("input", (event) => {
  if (event.target.matches?.("textarea[data-max-chars]")) updateCounter(event.target);
});
document.addEventListener("htmx:after:swap", () => counted(document));  // a refused post's box comes back
counted(document);

// A person's card under their name in a post (posts/_post.html): resting on or focusing the name
// or picture (data-card: the card's id) opens it after a moment, htmx fetching it the first time
// (hx-trigger="open-card once"); leaving them and the card closes it after a moment. Escape closes
// it, focus going back to the name it describes (aria-describedby), which then stays closed.
let openCard = null, dismissed = null, cardTimer;
const cardAt = (el) => el.closest?.(".person-card") || document.getElementById(el.closest?.("[data-card]")?.dataset.card ?? "");
const nameOf = (card) => document.querySelector(`[aria-describedby="${card.id}"]`);

function showCard(card) {
  openCard?.classList.remove("open");
  openCard && nameOf(openCard)?.setAttribute("aria-expanded", "false");
  openCard = card;
  card?.classList.add("open");
  card && nameOf(card)?.setAttribute("aria-expanded", "true");
  card?.dispatchEvent(new Event("open-card"));
}

function restOn(event) {
  const card = cardAt(event.target);
  if (card !== dismissed) dismissed = null;
  const wanted = card === dismissed ? null : card;
  clearTimeout(cardTimer);
  if (wanted !== openCard) cardTimer = setTimeout(() => showCard(wanted), wanted ? 400 : 300);
}
document.addEventListener("mouseover", restOn);
document.addEventListener("focusin", restOn);
document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape") return;
  clearTimeout(cardTimer);  // a card about to open stays closed
  if (!openCard) return;
  const card = (dismissed = openCard);
  showCard(null);
  if (card.contains(document.activeElement)) nameOf(card)?.focus();
});
