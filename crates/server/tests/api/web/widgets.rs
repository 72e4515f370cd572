//! Browser tests of the widgets (web/app/widgets/), on the widget gallery
//! (`/assets/gallery.html`, no sign-in: the widget schema is public):
//!
//! - visual regression: every gallery item in light and dark is screenshotted and
//!   compared with `baselines/<item>-<theme>.png`; `AGENTDECK_UPDATE_BASELINES=1`
//!   rewrites them (docs/web.md, "Visual baselines");
//! - `validateWidget` on good and broken payloads of every type, leaf paths only;
//! - nothing in a payload runs as code: markup in every text field stays text,
//!   Alert actions link only to relative or https URLs;
//! - Retry counts attempts and stops at three; Kanban moves by keyboard;
//! - odd but valid data (200 tasks, zero-length spans, one point, far-apart
//!   dates) keeps the DOM bounded and never writes `NaN` into an attribute;
//! - no console errors, and axe-core finds no serious or critical violation.

use std::io::Cursor;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use agentdeck_domain::widgets::WidgetType;

use super::support::{Driver, Page};
use crate::helpers::{TestApp, spawn_app};

/// The widget types of the catalog (the domain's list), as the gallery shows them.
fn types() -> Vec<&'static str> {
    WidgetType::ALL.iter().map(|widget_type| widget_type.as_str()).collect()
}

/// A channel differing by more than this counts the pixel as changed (anti-aliasing noise stays below).
const CHANNEL_TOLERANCE: u8 = 16;
/// A screenshot fails when more than this fraction of its pixels changed.
const MAX_CHANGED_FRACTION: f64 = 0.005;

/// Opens the gallery in `theme` and waits until every item is drawn.
async fn open_gallery(page: &Page, app: &TestApp, theme: &str) {
    page.goto(app, &format!("/assets/gallery.html?theme={theme}")).await;
    page.run(
        r#"const done = arguments[arguments.length - 1];
           const deadline = Date.now() + 15000;
           (async () => {
             while (!window.gallery && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
             if (!window.gallery) return "error: window.gallery never appeared";
             await window.gallery.ready;
             await document.fonts.ready;
             return "ok";
           })().then(done, (error) => done("error: " + error));"#,
        Value::Null,
    )
    .await;
}

/// Runs `body` (an async function body with `gallery`, `arg` in scope) in the page and returns its result.
async fn in_gallery(page: &Page, body: &str, arg: Value) -> Value {
    let script = format!(
        r#"const done = arguments[arguments.length - 1];
           const arg = arguments[0];
           const gallery = window.gallery;
           (async () => {{ {body} }})().then(done, (error) => done("error: " + (error && error.stack || error)));"#
    );
    page.run(&script, arg).await
}

fn baselines_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/api/web/baselines")
}

/// Where a failing comparison leaves the actual screenshot and the diff: `<target>/visual-diffs/`.
fn diffs_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"))
        .join("visual-diffs")
}

/// An image as width, height and RGBA bytes.
pub(super) struct Rgba {
    /// Pixels across.
    pub(super) width: u32,
    /// Pixels down.
    pub(super) height: u32,
    /// Four bytes a pixel, row by row.
    pub(super) pixels: Vec<u8>,
}

/// Decodes a PNG (a screenshot or a baseline) into RGBA pixels.
pub(super) fn decode_png(bytes: &[u8]) -> Result<Rgba, String> {
    let mut decoder = png::Decoder::new(Cursor::new(bytes));
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = decoder.read_info().map_err(|error| format!("not a PNG: {error}"))?;
    let size = reader.output_buffer_size().ok_or("PNG too large")?;
    let mut buffer = vec![0; size];
    let frame = reader.next_frame(&mut buffer).map_err(|error| format!("PNG does not decode: {error}"))?;
    buffer.truncate(frame.buffer_size());
    let pixels = match frame.color_type {
        png::ColorType::Rgba => buffer,
        png::ColorType::Rgb => buffer.chunks_exact(3).flat_map(|p| [p[0], p[1], p[2], 255]).collect(),
        png::ColorType::GrayscaleAlpha => buffer.chunks_exact(2).flat_map(|p| [p[0], p[0], p[0], p[1]]).collect(),
        png::ColorType::Grayscale => buffer.iter().flat_map(|&g| [g, g, g, 255]).collect(),
        png::ColorType::Indexed => return Err("indexed PNG was not expanded".into()),
    };
    Ok(Rgba { width: frame.width, height: frame.height, pixels })
}

/// Writes `image` as a PNG (a new baseline, an actual screenshot, a diff).
pub(super) fn write_png(path: &Path, image: &Rgba) {
    let file = std::fs::File::create(path).unwrap_or_else(|error| panic!("cannot write {}: {error}", path.display()));
    let mut encoder = png::Encoder::new(std::io::BufWriter::new(file), image.width, image.height);
    encoder.set_color(png::ColorType::Rgba);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::High);
    let mut writer = encoder.write_header().expect("PNG header");
    writer.write_image_data(&image.pixels).expect("PNG data");
}

/// Compares a screenshot with its baseline: `None` when they match within the tolerance,
/// else why not (after writing the actual and a diff image to [`diffs_dir`]).
pub(super) fn compare_with_baseline(name: &str, actual: &Rgba, baseline_path: &Path) -> Option<String> {
    let write_actual = || {
        std::fs::create_dir_all(diffs_dir()).expect("diff dir");
        let path = diffs_dir().join(format!("{name}-actual.png"));
        write_png(&path, actual);
        path
    };
    let Ok(bytes) = std::fs::read(baseline_path) else {
        let path = write_actual();
        return Some(format!(
            "{name}: no baseline at {} (actual: {}; AGENTDECK_UPDATE_BASELINES=1 writes it)",
            baseline_path.display(),
            path.display()
        ));
    };
    let expected = match decode_png(&bytes) {
        Ok(image) => image,
        Err(error) => return Some(format!("{name}: baseline {}: {error}", baseline_path.display())),
    };
    if (expected.width, expected.height) != (actual.width, actual.height) {
        let path = write_actual();
        return Some(format!(
            "{name}: size {}x{} differs from the baseline's {}x{} (actual: {})",
            actual.width,
            actual.height,
            expected.width,
            expected.height,
            path.display()
        ));
    }
    let mut diff = Vec::with_capacity(actual.pixels.len());
    let mut changed = 0usize;
    for (a, e) in actual.pixels.chunks_exact(4).zip(expected.pixels.chunks_exact(4)) {
        let differs = a.iter().zip(e).any(|(x, y)| x.abs_diff(*y) > CHANNEL_TOLERANCE);
        if differs {
            changed += 1;
            diff.extend_from_slice(&[255, 0, 0, 255]);
        } else {
            // Unchanged pixels faded, so the red ones stand out.
            diff.extend(e[..3].iter().map(|channel| 192 + channel / 4));
            diff.push(255);
        }
    }
    let total = (actual.width as usize) * (actual.height as usize);
    let fraction = changed as f64 / total.max(1) as f64;
    if fraction <= MAX_CHANGED_FRACTION {
        return None;
    }
    let actual_path = write_actual();
    let diff_path = diffs_dir().join(format!("{name}-diff.png"));
    write_png(&diff_path, &Rgba { width: actual.width, height: actual.height, pixels: diff });
    Some(format!(
        "{name}: {changed} of {total} pixels ({:.2} %) differ by more than {CHANNEL_TOLERANCE} (allowed {:.1} %); actual: {}, diff: {}",
        fraction * 100.0,
        MAX_CHANGED_FRACTION * 100.0,
        actual_path.display(),
        diff_path.display()
    ))
}

/// Every gallery item, light and dark, looks like its committed baseline; the
/// gallery logs no console error and axe-core finds no serious or critical
/// violation (colour contrast included) in either theme.
#[tokio::test]
async fn every_gallery_item_matches_its_visual_baseline_in_light_and_dark() {
    let app = spawn_app().await;
    let driver = Driver::start().await;
    let mut page = driver.browser().await;
    let update = std::env::var_os("AGENTDECK_UPDATE_BASELINES").is_some_and(|value| value == "1");
    let mut failures = Vec::new();
    let mut checked = Vec::new();
    for theme in ["light", "dark"] {
        open_gallery(&page, &app, theme).await;
        let names = page
            .eval(
                "return [...document.querySelectorAll('[data-gallery-item]')].map((e) => e.dataset.galleryItem);",
                Value::Null,
            )
            .await;
        let names: Vec<String> =
            names.as_array().expect("item names").iter().map(|name| name.as_str().expect("name").to_owned()).collect();
        for widget_type in types() {
            for state in ["normal", "error"] {
                let name = format!("{widget_type}-{state}");
                assert!(names.contains(&name), "the gallery lacks {name}: {names:?}");
            }
        }
        for name in &names {
            page.eval("window.gallery.isolate(arguments[0]); return null;", json!(name)).await;
            let shot = page.element_screenshot(&format!("[data-gallery-item=\"{name}\"]")).await;
            let actual = decode_png(&shot).expect("the screenshot is a PNG");
            assert!(actual.width <= 480, "{name} is {} px wide: gallery items have fixed widths", actual.width);
            let file = baselines_dir().join(format!("{name}-{theme}.png"));
            checked.push(file.clone());
            if update {
                std::fs::create_dir_all(baselines_dir()).expect("baselines dir");
                write_png(&file, &actual);
            } else if let Some(failure) = compare_with_baseline(&format!("{name}-{theme}"), &actual, &file) {
                failures.push(failure);
            }
        }
        page.eval("window.gallery.isolate(null); return null;", Value::Null).await;
        let violations = page.axe().await;
        assert!(violations.is_empty(), "axe-core, {theme} theme: {violations:#?}");
    }
    page.assert_no_console_errors(&[]).await;
    // A baseline whose item is gone would never be checked again: updating drops it, checking fails on it.
    for entry in std::fs::read_dir(baselines_dir()).expect("baselines dir").flatten() {
        if checked.contains(&entry.path()) {
            continue;
        }
        if update {
            std::fs::remove_file(entry.path()).expect("stale baseline removed");
        } else {
            failures.push(format!("{}: no gallery item has this baseline", entry.path().display()));
        }
    }
    page.quit().await;
    assert!(
        failures.is_empty(),
        "{} screenshot(s) differ from their baselines:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// `validateWidget`: the normal and empty fixtures of every type pass; each broken one
/// fails with exactly its leaf paths (no `allOf`/`if`/`$ref` wrappers), and the card
/// is an Error card listing them. Unknown types, unknown properties and non-objects fail clearly.
#[tokio::test]
async fn validate_widget_accepts_good_payloads_and_names_the_failing_paths_of_bad_ones() {
    let app = spawn_app().await;
    let driver = Driver::start().await;
    let mut page = driver.browser().await;
    open_gallery(&page, &app, "light").await;
    let result = in_gallery(
        &page,
        r#"const { validateWidget, renderWidgetCard, WIDGET_TYPES } = gallery.widgets;
           const out = { types: WIDGET_TYPES, good: {}, broken: {}, cards: {} };
           for (const [type, fixtures] of Object.entries(gallery.fixtures)) {
             out.good[type] = [fixtures.normal, fixtures.empty].filter(Boolean).map((w) => validateWidget(w));
             const bad = validateWidget(fixtures.broken);
             out.broken[type] = bad;
             const card = renderWidgetCard(fixtures.broken, { id: "x", now: gallery.now });
             out.cards[type] = { type: card.dataset.widgetType, id: card.dataset.widgetId,
               paths: [...card.querySelectorAll(".w-error__paths code")].map((c) => c.textContent) };
           }
           out.unknown = validateWidget({ type: "PieChart", data: {} });
           const unknownCard = renderWidgetCard({ type: "PieChart", data: {} }, { id: "u" });
           out.unknownCard = { type: unknownCard.dataset.widgetType, text: unknownCard.textContent };
           out.extra = validateWidget({ type: "Loading", data: { widgetType: "Metrics", colour: "red" } });
           out.notObject = validateWidget("Metrics");
           out.noData = validateWidget({ type: "Metrics" });
           out.anyOf = validateWidget({ type: "Metrics", data: { metrics: [{ label: "x", value: [] }] } });
           return out;"#,
        Value::Null,
    )
    .await;
    assert_eq!(result["types"], json!(types()));
    for widget_type in types() {
        for check in result["good"][widget_type].as_array().expect("good results") {
            assert_eq!(check["valid"], true, "{widget_type}: {check}");
            assert_eq!(check["errors"], json!([]), "{widget_type}");
        }
    }
    let expected: [(&str, &[&str]); 10] = [
        ("ProjectStatus", &["/data/progress", "/data/status", "/data/tasksTotal"]),
        ("TaskList", &["/data/tasks/0/dueDate", "/data/tasks/0/status"]),
        ("Metrics", &["/data/metrics/0/change/direction", "/data/metrics/0/change/value", "/data/metrics/0/value"]),
        ("Alert", &["/data/action/href", "/data/message", "/data/severity"]),
        ("TeamActivity", &["/data/activities/0/time", "/data/activities/0/user"]),
        ("KanbanBoard", &["/data/columns/0/cards/0/id", "/data/columns/0/title"]),
        ("GanttChart", &["/data/tasks/0/end", "/data/tasks/0/progress", "/data/tasks/0/start"]),
        ("BurndownChart", &["/data/endDate", "/data/points/0/actual", "/data/points/0/ideal"]),
        ("Error", &["/data/message", "/data/retryable"]),
        ("Loading", &["/data/widgetType"]),
    ];
    for (widget_type, paths) in expected {
        let broken = &result["broken"][widget_type];
        assert_eq!(broken["valid"], false, "{widget_type}: {broken}");
        let mut actual: Vec<&str> =
            broken["errors"].as_array().expect("errors").iter().map(|e| e["path"].as_str().expect("path")).collect();
        actual.sort_unstable();
        assert_eq!(actual, paths, "{widget_type}: {broken}");
        for error in broken["errors"].as_array().expect("errors") {
            let message = error["message"].as_str().expect("message");
            assert!(!message.is_empty() && !message.contains("subschema"), "{widget_type}: a wrapper error: {error}");
        }
        let card = &result["cards"][widget_type];
        assert_eq!(card["type"], "Error", "{widget_type}: {card}");
        assert_eq!(card["id"], "x");
        let mut listed: Vec<&str> =
            card["paths"].as_array().expect("paths").iter().map(|p| p.as_str().expect("p")).collect();
        listed.sort_unstable();
        assert_eq!(listed, paths, "{widget_type}: the Error card lists each failing path");
    }
    assert_eq!(result["unknown"]["valid"], false);
    assert_eq!(result["unknown"]["errors"][0]["path"], "/type");
    let unknown = result["unknown"]["errors"][0]["message"].as_str().expect("message");
    assert!(unknown.contains("PieChart") && types().iter().all(|t| unknown.contains(t)), "{unknown}");
    assert_eq!(result["unknownCard"]["type"], "Error");
    assert!(
        result["unknownCard"]["text"].as_str().expect("text").contains("BurndownChart"),
        "{}",
        result["unknownCard"]
    );
    assert_eq!(result["extra"]["errors"], json!([{ "path": "/data/colour", "message": "is not allowed" }]));
    assert_eq!(result["notObject"]["errors"][0]["path"], "");
    assert_eq!(result["noData"]["errors"][0]["path"], "/data");
    assert_eq!(
        result["anyOf"]["errors"],
        json!([{ "path": "/data/metrics/0/value", "message": "must be a number or string" }])
    );
    page.assert_no_console_errors(&[]).await;
    page.quit().await;
}

/// Markup in every text field of every type (and in the title) stays text: no element
/// is created from it and no handler runs; the card is still the widget, not an Error.
#[tokio::test]
async fn markup_in_every_text_field_of_every_type_stays_text() {
    let app = spawn_app().await;
    let driver = Driver::start().await;
    let mut page = driver.browser().await;
    open_gallery(&page, &app, "light").await;
    let result = in_gallery(
        &page,
        r#"// 49 characters: short enough for every field (a unit allows 50).
           const attack = "<img src onerror=__ran=1><script>__ran=2</script>";
           // Free-text fields (enums, dates, ids and links have their own rules and tests).
           const TEXT = new Set(["title", "message", "label", "projectName", "user", "action", "target",
             "description", "assignee", "sprintName", "widgetType", "unit"]);
           const poison = (value, key) => {
             if (Array.isArray(value)) return value.map((item) => poison(item, null));
             if (value && typeof value === "object") {
               return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, poison(v, k)]));
             }
             if (typeof value === "string" && TEXT.has(key)) return attack;
             if (key === "value" && typeof value === "string") return attack;
             return value;
           };
           const out = {};
           for (const [type, fixtures] of Object.entries(gallery.fixtures)) {
             let widget = poison(fixtures.normal, null);
             if (type === "Alert") widget.data.action.label = attack;
             const card = gallery.mount(widget, { id: "xss-" + type, retry: async () => {}, retryState: { count: 0, running: false },
               moveCard: async () => {}, openProject: () => {} });
             out[type] = { type: card.dataset.widgetType, elements: card.querySelectorAll("img, script").length,
               shown: card.textContent.includes(attack) };
           }
           const unknown = gallery.mount({ type: attack, data: {} }, { id: "xss-unknown" });
           out.unknown = { type: unknown.dataset.widgetType, elements: unknown.querySelectorAll("img, script").length,
             shown: unknown.textContent.includes(attack) };
           await new Promise((resolve) => setTimeout(resolve, 500));
           out.ran = window.__ran ?? 0;
           out.pageImages = document.querySelectorAll("img").length;
           return out;"#,
        Value::Null,
    )
    .await;
    for widget_type in types() {
        let card = &result[widget_type];
        assert_eq!(card["type"], widget_type, "{widget_type}: the poisoned payload is valid and drawn: {card}");
        assert_eq!(card["elements"], 0, "{widget_type}: markup became elements");
        assert_eq!(card["shown"], true, "{widget_type}: the text is shown as text: {card}");
    }
    assert_eq!(result["unknown"]["type"], "Error");
    assert_eq!(result["unknown"]["elements"], 0);
    assert_eq!(result["unknown"]["shown"], true);
    assert_eq!(result["ran"], 0, "a payload's handler ran");
    assert_eq!(result["pageImages"], 0);
    page.assert_no_console_errors(&[]).await;
    page.quit().await;
}

/// An Alert action is a link only for relative and https URLs: `javascript:`, `data:`,
/// `http:` and `//host` are refused by the schema (Error card, no link) and, should one
/// get past it, by the renderer (plain text, no link). https links carry `rel=noopener noreferrer`.
#[tokio::test]
async fn alert_actions_link_only_to_relative_and_https_urls() {
    let app = spawn_app().await;
    let driver = Driver::start().await;
    let mut page = driver.browser().await;
    open_gallery(&page, &app, "light").await;
    let result = in_gallery(
        &page,
        r#"const alertModule = await import("/assets/app/widgets/alert.js");
           const out = {};
           for (const href of arg) {
             const widget = { type: "Alert", data: { severity: "error", message: "m", action: { label: "Act", href } } };
             const card = gallery.mount(widget, { id: "a" });
             const body = document.createElement("div");
             body.append(...alertModule.render(widget.data, { headingId: "h" }, widget));
             const link = body.querySelector("a");
             out[href] = {
               cardType: card.dataset.widgetType,
               cardLinks: [...card.querySelectorAll("a")].map((a) => a.getAttribute("href")),
               rendererLink: link ? { href: link.getAttribute("href"), rel: link.getAttribute("rel") } : null,
               rendererText: body.textContent,
             };
           }
           return out;"#,
        json!([
            "javascript:alert(1)",
            "JaVaScRiPt:alert(1)",
            "data:text/html,<script>alert(1)</script>",
            "http://example.com/",
            "//evil.example/x",
            "https://example.com/tasks?id=1",
            "/tasks/1",
            "#/tasks?status=blocked"
        ]),
    )
    .await;
    for href in [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "http://example.com/",
        "//evil.example/x",
    ] {
        let outcome = &result[href];
        assert_eq!(outcome["cardType"], "Error", "{href}: the schema refuses it: {outcome}");
        assert_eq!(outcome["cardLinks"], json!([]), "{href}");
        assert_eq!(outcome["rendererLink"], Value::Null, "{href}: the renderer made a link: {outcome}");
        let text = outcome["rendererText"].as_str().expect("text");
        assert!(text.contains("Act") && text.contains(href), "{href}: shown as text: {text}");
    }
    let https = &result["https://example.com/tasks?id=1"];
    assert_eq!(https["cardType"], "Alert");
    assert_eq!(https["cardLinks"], json!(["https://example.com/tasks?id=1"]));
    assert_eq!(https["rendererLink"]["rel"], "noopener noreferrer");
    for href in ["/tasks/1", "#/tasks?status=blocked"] {
        assert_eq!(result[href]["cardLinks"], json!([href]), "{href}: {}", result[href]);
        assert_eq!(result[href]["rendererLink"]["rel"], Value::Null);
    }
    page.assert_no_console_errors(&[]).await;
    page.quit().await;
}

/// Retry: "Retry" → spinner and "Retrying…" → "Retry (n/3)" after each failed attempt
/// (rejected, or resolved with the widget still an Error and the card rebuilt from the
/// grid's retry state, also mid-attempt) → "Maximum retries (3) exceeded" with no button
/// after the third. A retry that succeeds replaces the card.
#[tokio::test]
async fn retry_counts_attempts_shows_progress_and_stops_after_three() {
    let app = spawn_app().await;
    let driver = Driver::start().await;
    let mut page = driver.browser().await;
    open_gallery(&page, &app, "light").await;
    let result = in_gallery(
        &page,
        r#"const widget = gallery.fixtures.Error.normal;
           const retryState = { count: 0, running: false };
           const pending = [];
           let attempts = 0;
           // The grid's part: one slot per widget id, a card rebuilt from the same retry state.
           const slot = document.createElement("div");
           document.getElementById("gallery").append(slot);
           const ctx = { id: widget.id, retryState, retry: () => { attempts += 1;
             return new Promise((resolve, reject) => pending.push({ resolve, reject })); } };
           const render = (w) => { slot.replaceChildren(gallery.widgets.renderWidgetCard(w, ctx)); return slot.firstChild; };
           const button = () => slot.querySelector("button");
           const text = () => slot.querySelector(".w-retry").textContent;
           const tick = () => new Promise((resolve) => setTimeout(resolve, 0));
           const seen = [];
           render(widget);
           seen.push(text());
           button().click(); await tick();
           seen.push(text(), button().getAttribute("aria-disabled"), String(!!slot.querySelector(".w-spinner")));
           button().click(); await tick();
           seen.push(String(attempts));
           pending.shift().reject(new Error("still down")); await tick();
           seen.push(text());
           // Second attempt resolves, the widget is still an Error: the grid rebuilds the card mid-attempt.
           button().click(); await tick();
           render(widget);
           seen.push(text());
           pending.shift().resolve(); await tick();
           seen.push(text());
           button().click(); await tick();
           pending.shift().reject(new Error("still down")); await tick();
           seen.push(text(), String(button() === null));
           render(widget);
           seen.push(text(), String(button() === null), String(retryState.count));
           // A fresh failure that recovers: one attempt, then the grid shows the real widget.
           const fresh = { count: 0, running: false };
           const freshCtx = { id: "w2", retryState: fresh, retry: async () => { attempts += 1;
             slot.replaceChildren(gallery.widgets.renderWidgetCard(gallery.fixtures.Metrics.normal, { id: "w2" })); } };
           slot.replaceChildren(gallery.widgets.renderWidgetCard(widget, freshCtx));
           button().click(); await tick(); await tick();
           seen.push(slot.firstChild.dataset.widgetType, String(fresh.count), String(fresh.running));
           // Not retryable, or no way to retry: no button.
           const plain = gallery.widgets.renderWidgetCard({ ...widget, data: { ...widget.data, retryable: false } }, ctx);
           const noRetry = gallery.widgets.renderWidgetCard(widget, { id: "n" });
           seen.push(String(plain.querySelector("button") === null), String(noRetry.querySelector("button") === null));
           return { seen, attempts };"#,
        Value::Null,
    )
    .await;
    assert_eq!(
        result["seen"],
        json!([
            "Retry",
            "Retrying…",
            "true",
            "true",
            "1",
            "Retry (1/3)",
            "Retrying…",
            "Retry (2/3)",
            "Maximum retries (3) exceeded",
            "true",
            "Maximum retries (3) exceeded",
            "true",
            "3",
            "Metrics",
            "0",
            "false",
            "true",
            "true"
        ])
    );
    assert_eq!(result["attempts"], 4, "three attempts, then the one that recovered");
    // By keyboard: Enter on the focused button; the focus stays on it through "Retrying…", and
    // moves to the message once the button is gone.
    in_gallery(
        &page,
        r#"window.keyboardAttempts = 0;
           const card = gallery.mount(gallery.fixtures.Error.normal, { id: "kb", retryState: { count: 1, running: false },
             retry: () => { window.keyboardAttempts += 1;
               return new Promise((_, reject) => setTimeout(() => reject(new Error("no")), 300)); } });
           card.id = "keyboard-retry";
           return "ok";"#,
        Value::Null,
    )
    .await;
    let button = page.client.find(fantoccini::Locator::Css("#keyboard-retry button")).await.expect("the Retry button");
    button.send_keys("\u{E007}").await.expect("Enter");
    let running = page
        .wait_for(
            "Retrying… with the focus kept",
            r#"document.activeElement.closest('#keyboard-retry') && document.activeElement.textContent === "Retrying…"
               && document.activeElement.tagName"#,
            5,
        )
        .await;
    assert_eq!(running, "BUTTON");
    page.wait_for("Retry (2/3) with the focus kept", r#"document.activeElement.textContent === "Retry (2/3)""#, 5)
        .await;
    button.send_keys("\u{E007}").await.expect("Enter");
    let exhausted = page
        .wait_for(
            "the limit, focused",
            r#"document.activeElement.closest('#keyboard-retry') && document.activeElement.textContent === "Maximum retries (3) exceeded"
               && document.activeElement.tagName"#,
            5,
        )
        .await;
    assert_eq!(exhausted, "P");
    assert_eq!(page.eval("return window.keyboardAttempts;", Value::Null).await, 2);
    page.assert_no_console_errors(&[]).await;
    page.quit().await;
}

/// Kanban: a card moves by keyboard (its "Move to" select), calling `ctx.moveCard`
/// with the card and the column; the card is busy meanwhile; a failure shows on the
/// card and puts the select back.
#[tokio::test]
async fn kanban_cards_move_by_keyboard_and_failed_moves_say_why() {
    let app = spawn_app().await;
    let driver = Driver::start().await;
    let mut page = driver.browser().await;
    open_gallery(&page, &app, "light").await;
    in_gallery(
        &page,
        r#"window.moves = [];
           window.finishMove = null;
           const card = gallery.mount(gallery.fixtures.KanbanBoard.normal, { id: "board", moveCard: (cardId, to) => {
             window.moves.push([cardId, to]);
             return new Promise((resolve, reject) => { window.finishMove = { resolve, reject }; });
           } });
           card.id = "board-under-test";
           return "ok";"#,
        Value::Null,
    )
    .await;
    let select = page
        .client
        .find(fantoccini::Locator::Css(r#"#board-under-test [data-card-id="t5"] select"#))
        .await
        .expect("the card's Move to select");
    let label = page
        .eval(
            r#"const s = document.querySelector('#board-under-test [data-card-id="t5"] select');
               return s.labels[0].textContent;"#,
            Value::Null,
        )
        .await;
    assert_eq!(label, "Move to (Accessibility review)");
    // Keyboard: focus the select and press the down arrow (a closed select changes value at once).
    select.send_keys("\u{E015}").await.expect("arrow down");
    page.wait_for("the move to start", "window.moves.length === 1", 5).await;
    let state = page
        .eval(
            r#"const item = document.querySelector('#board-under-test [data-card-id="t5"]');
               return { moves: window.moves, busy: item.getAttribute("aria-busy"), status: item.querySelector(".w-card__status").textContent };"#,
            Value::Null,
        )
        .await;
    assert_eq!(state["moves"], json!([["t5", "in_progress"]]));
    assert_eq!(state["busy"], "true");
    assert_eq!(state["status"], "Moving…");
    page.eval(r#"window.finishMove.reject(new Error("the task was deleted")); return null;"#, Value::Null).await;
    let failed = page
        .wait_for(
            "the failure to show",
            r#"(() => { const item = document.querySelector('#board-under-test [data-card-id="t5"]');
                 return item.getAttribute("aria-busy") === null && item.querySelector(".w-card__status").textContent.includes("deleted")
                   && { status: item.querySelector(".w-card__status").textContent, value: item.querySelector("select").value }; })()"#,
            5,
        )
        .await;
    assert_eq!(failed["status"], "Could not move: the task was deleted");
    assert_eq!(failed["value"], "todo", "the select shows where the card still is");
    // No moveCard: a read-only board without selects.
    let read_only = in_gallery(
        &page,
        r#"return gallery.mount(gallery.fixtures.KanbanBoard.normal, { id: "ro" }).querySelectorAll("select").length;"#,
        Value::Null,
    )
    .await;
    assert_eq!(read_only, 0);
    page.assert_no_console_errors(&[]).await;
    page.quit().await;
}

/// Odd but valid data: 200 tasks keep the DOM bounded ("and N more"), `limit` is
/// honoured, a zero-length span, a single point and dates 130 years apart draw
/// without a `NaN` or `Infinity` in any attribute, with a few ticks.
#[tokio::test]
async fn odd_but_valid_data_draws_bounded_and_finite() {
    let app = spawn_app().await;
    let driver = Driver::start().await;
    let mut page = driver.browser().await;
    open_gallery(&page, &app, "light").await;
    let result = in_gallery(
        &page,
        r#"const day = (n) => new Date(Date.UTC(2026, 2, 1) + n * 86400000).toISOString();
           const many = Array.from({ length: 200 }, (_, i) => ({ id: "t" + i, title: "Task " + i,
             status: "todo", priority: "low", dueDate: day(i) }));
           const mount = (widget) => gallery.mount(widget, { id: widget.type + Math.random() });
           const out = {};
           const list = mount({ type: "TaskList", data: { tasks: many } });
           out.list = { rows: list.querySelectorAll(".w-task").length, more: list.querySelector(".w-more")?.textContent };
           const limited = mount({ type: "TaskList", data: { tasks: many.slice(0, 8), limit: 3 } });
           out.limited = { rows: limited.querySelectorAll(".w-task").length, more: limited.querySelector(".w-more")?.textContent };
           const gantt = mount({ type: "GanttChart", data: { tasks: many.map((t, i) => ({ id: t.id, title: t.title,
             start: day(i), end: day(i + 3), progress: i % 101, dependencies: i > 0 ? ["t" + (i - 1)] : [] })) } });
           out.gantt = { type: gantt.dataset.widgetType, bars: gantt.querySelectorAll(".w-gantt__row").length,
             more: gantt.querySelector(".w-more")?.textContent };
           // A chart draws at its card's width, and again when the card is resized.
           const frames = async () => { for (let i = 0; i < 3; i += 1) await new Promise((r) => requestAnimationFrame(r)); };
           await frames();
           const viewBoxWidth = () => Number(gantt.querySelector("svg.w-chart").getAttribute("viewBox").split(" ")[2]);
           const bodyWidth = () => Math.floor(gantt.querySelector(".w-chart-wrap").getBoundingClientRect().width);
           out.resize = { before: viewBoxWidth() === bodyWidth() };
           gantt.style.width = "800px";
           await frames();
           out.resize.after = viewBoxWidth() === bodyWidth() && viewBoxWidth() > 700;
           const zero = mount({ type: "GanttChart", data: { tasks: [{ id: "m", title: "Launch", start: day(0), end: day(0) }] } });
           out.zero = { type: zero.dataset.widgetType, milestones: zero.querySelectorAll(".w-gantt__milestone").length,
             ticks: zero.querySelectorAll(".w-axis--x text").length };
           const far = mount({ type: "GanttChart", data: { tasks: [
             { id: "a", title: "Old", start: "1970-01-01T00:00:00Z", end: "1971-01-01T00:00:00Z" },
             { id: "b", title: "Far", start: "2099-01-01T00:00:00Z", end: "2100-01-01T00:00:00Z", dependencies: ["a"] }] } });
           out.far = { type: far.dataset.widgetType, ticks: far.querySelectorAll(".w-axis--x text").length };
           const one = mount({ type: "BurndownChart", data: { startDate: day(0), endDate: day(0),
             points: [{ date: day(0), ideal: 0, actual: 0 }] } });
           out.one = { type: one.dataset.widgetType, dots: one.querySelectorAll(".w-dot").length,
             yTicks: one.querySelectorAll(".w-axis--y text").length };
           const huge = mount({ type: "BurndownChart", data: { startDate: day(0), endDate: day(9),
             points: [{ date: day(0), ideal: 1e308, actual: 1e308 }, { date: day(9), ideal: 0, actual: 5e307 }] } });
           out.huge = { type: huge.dataset.widgetType };
           const metrics = mount({ type: "Metrics", data: { metrics: [{ label: "Big", value: 1e308, change: { value: -1e308, direction: "down" } }] } });
           out.metrics = metrics.querySelector(".w-metric__change").textContent;
           const board = mount({ type: "KanbanBoard", data: { columns: Array.from({ length: 50 }, (_, c) => ({
             id: "c" + c, title: "Column " + c, cards: many.slice(0, 100).map((t) => ({ id: c + t.id, title: t.title })) })) } });
           out.board = { columns: board.querySelectorAll(".w-column").length, cards: board.querySelectorAll(".w-card").length,
             more: [...board.querySelectorAll(".w-more")].map((m) => m.textContent).at(-1) };
           out.bad = [];
           for (const node of document.querySelectorAll('#gallery-test-area *')) {
             for (const attribute of node.attributes) {
               if (/NaN|Infinity/.test(attribute.value)) out.bad.push(node.tagName + " " + attribute.name + "=" + attribute.value);
             }
           }
           out.nodes = document.querySelectorAll('#gallery-test-area *').length;
           return out;"#,
        Value::Null,
    )
    .await;
    assert_eq!(result["list"], json!({ "rows": 50, "more": "and 150 more" }));
    assert_eq!(result["limited"], json!({ "rows": 3, "more": "and 5 more" }));
    assert_eq!(result["gantt"], json!({ "type": "GanttChart", "bars": 30, "more": "and 170 more tasks" }));
    assert_eq!(result["resize"], json!({ "before": true, "after": true }), "the Gantt chart follows its card's width");
    assert_eq!(result["zero"]["type"], "GanttChart");
    assert_eq!(result["zero"]["milestones"], 1);
    assert!(result["zero"]["ticks"].as_u64().expect("ticks") >= 1, "{}", result["zero"]);
    assert_eq!(result["far"]["type"], "GanttChart");
    let far_ticks = result["far"]["ticks"].as_u64().expect("ticks");
    assert!((2..=7).contains(&far_ticks), "{}", result["far"]);
    assert_eq!(result["one"]["type"], "BurndownChart");
    assert_eq!(result["one"]["dots"], 1);
    assert!(result["one"]["yTicks"].as_u64().expect("ticks") >= 2, "{}", result["one"]);
    assert_eq!(result["huge"]["type"], "BurndownChart");
    assert!(result["metrics"].as_str().expect("change").starts_with("▼ down"), "{}", result["metrics"]);
    assert_eq!(result["board"], json!({ "columns": 12, "cards": 360, "more": "and 38 more columns" }));
    assert_eq!(result["bad"], json!([]), "attributes with NaN or Infinity");
    assert!(result["nodes"].as_u64().expect("nodes") < 8000, "the DOM stays bounded: {}", result["nodes"]);
    page.assert_no_console_errors(&[]).await;
    page.quit().await;
}
