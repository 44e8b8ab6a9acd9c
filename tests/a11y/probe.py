"""Reads the accessibility tree (AT-SPI) of the running Token Inspector window and finds
each control named on the command line, by its accessible name; prints each with its
role. Then it shows each panel (through its tab's AT-SPI action) and every interactive
control in the tree (buttons, combo boxes, text fields, check boxes, spin buttons) must
have a name. Exit 0 when every wanted one is found within 30 s and none is
unnamed, 1 otherwise (with what was there).
Run by tests/a11y/atspi.sh under Xvfb with the AT-SPI bus; uses the distribution's
python3-pyatspi."""
import subprocess
import sys
import time

import pyatspi

WANTED = sys.argv[1:]


def walk(node, depth, out):
    if depth > 40:
        return
    try:
        role, name = node.getRoleName(), node.name
    except Exception:
        return
    out.append((role, name))
    for i in range(node.childCount):
        try:
            walk(node.getChildAtIndex(i), depth + 1, out)
        except Exception:
            pass


INTERACTIVE = {"push button", "toggle button", "combo box", "entry", "text",
               "check box", "radio button", "spin button", "slider"}


def app_tree():
    """The app's node and its tree as (role, name) pairs: the desktop child whose tree
    names the Request panel; (None, []) while there is none."""
    desktop = pyatspi.Registry.getDesktop(0)
    for i in range(desktop.childCount):
        out = []
        walk(desktop.getChildAtIndex(i), 0, out)
        if any(name == "Request" for _, name in out):
            return desktop.getChildAtIndex(i), out
    return None, []


def audit_panels():
    """Shows each panel through its tab's AT-SPI action, then checks that every control
    in the tree has a name."""
    root = app_tree()[0]
    failed = False
    for panel in ["Client", "Response", "JWT", "Flows", "Request"]:
        tab = find(root, panel)
        if tab is None:
            print(f"no tab {panel!r}")
            return 1
        tab.queryAction().doAction(0)
        time.sleep(1.5)
        out = []
        walk(root, 0, out)
        controls = [(r, n) for r, n in out if r in INTERACTIVE]
        unnamed = [r for r, n in controls if not (n or "").strip()]
        print(f"{panel}: {len(controls)} controls, {len(unnamed)} unnamed")
        failed = failed or bool(unnamed)
    # The Request panel is shown: the keyboard focus is visible, and Ctrl+= scales.
    failed = check_focus_ring(root) or failed
    failed = check_zoom(root) or failed
    # After a whole exchange (Authorize and Send through their actions), the Response
    # panel's controls: the body, the tokens, the findings, the copy buttons.
    press(root, "Authorize", "push button")
    time.sleep(4)
    press(root, "Send", "push button")
    time.sleep(4)
    press(root, "Response", "toggle button")
    time.sleep(1.5)
    out = []
    walk(root, 0, out)
    controls = [(r, n) for r, n in out if r in INTERACTIVE]
    unnamed = [r for r, n in controls if not (n or "").strip()]
    token = any("id_token" in (n or "") for _, n in out)
    shown = [(r, n) for r, n in out if r in INTERACTIVE or r == "label"]
    for i, (r, n) in enumerate(shown):
        if r in INTERACTIVE and not (n or "").strip():
            print("  unnamed after:", shown[max(0, i - 2):i])
    print(f"Response after an exchange: {len(controls)} controls, {len(unnamed)} unnamed"
          + ("" if token else " (no id_token shown: the exchange did not happen)"))
    for r, n in controls:
        print(f"  control: {r} {n!r}")
    failed = failed or bool(unnamed) or not token
    return 1 if failed else 0


def extents(node):
    e = node.queryComponent().getExtents(pyatspi.DESKTOP_COORDS)
    return e.x, e.y, e.width, e.height


def grab(box, margin):
    """The screen's pixels in box grown by margin, as rows of RGB triples."""
    x, y, w, h = box
    x, y, w, h = x - margin, y - margin, w + 2 * margin, h + 2 * margin
    raw = subprocess.run(["import", "-window", "root", "-crop", f"{w}x{h}+{x}+{y}",
                          "-depth", "8", "rgb:-"], capture_output=True, check=True).stdout
    return [[raw[(r * w + c) * 3:(r * w + c) * 3 + 3] for c in range(w)] for r in range(h)]


def xdotool(*args):
    subprocess.run(["xdotool", *args], check=True, capture_output=True)


def focus_window():
    wid = subprocess.run(["xdotool", "search", "--name", "Token Inspector"],
                         capture_output=True, text=True).stdout.split()
    if wid:
        # No window manager: the keyboard goes to the window only once it is focused.
        xdotool("windowfocus", "--sync", wid[0])


def check_focus_ring(root):
    """Tab (real key presses) until Authorize has the focus; the pixels just outside the
    button must change: a ring is drawn there. Returns True on failure."""
    node = find(root, "Authorize", role="push button")
    box = extents(node)
    margin = 6
    before = grab(box, margin)
    focus_window()
    xdotool("mousemove", "5", "795")  # away from the button: no hover
    focused = False
    for _ in range(80):
        xdotool("key", "Tab")
        time.sleep(0.15)
        if node.getState().contains(pyatspi.STATE_FOCUSED):
            focused = True
            break
    if not focused:
        print("focus: Tab never reached Authorize")
        return True
    time.sleep(0.5)
    after = grab(box, margin)
    _, _, w, h = box
    # The band from 2 to 5 pixels outside the button: where a ring is, and nothing else
    # (egui's own focused look grows the button by one pixel).
    band = changed = 0
    for r in range(len(before)):
        for c in range(len(before[0])):
            dx = max(margin - c, c - (margin + w - 1), 0)
            dy = max(margin - r, r - (margin + h - 1), 0)
            if 2 <= max(dx, dy) <= 5:
                band += 1
                changed += before[r][c] != after[r][c]
    share = changed / band if band else 0
    print(f"focus: Authorize focused by Tab; {changed} of {band} pixels around it changed ({share:.0%})")
    if share < 0.3:
        print("focus: no visible ring around the focused control")
        return True
    return False


def check_zoom(root):
    """Ctrl+= twice (egui's zoom) grows Authorize on screen; Ctrl+0 resets. True on failure."""
    node = find(root, "Authorize", role="push button")
    _, _, w0, h0 = extents(node)
    xdotool("key", "ctrl+equal", "ctrl+equal")
    time.sleep(1.5)
    _, _, w1, h1 = extents(node)
    xdotool("key", "ctrl+0")
    time.sleep(1.0)
    _, _, w2, h2 = extents(node)
    print(f"zoom: Authorize {w0}x{h0}, after Ctrl+= twice {w1}x{h1}, after Ctrl+0 {w2}x{h2}")
    return not (w1 > w0 * 1.1 and h1 > h0 * 1.1 and (w2, h2) == (w0, h0))


def press(root, name, role):
    node = find(root, name, role=role)
    if node is not None:
        node.queryAction().doAction(0)


def find(node, name, depth=0, role="toggle button"):
    if depth > 40:
        return None
    try:
        if node.name == name and node.getRoleName() == role:
            return node
        for i in range(node.childCount):
            hit = find(node.getChildAtIndex(i), name, depth + 1, role)
            if hit is not None:
                return hit
    except Exception:
        return None
    return None


if WANTED[:1] == ["--size-of"]:
    # Another launch (the system's scale): print the control's size on screen.
    deadline = time.time() + 30
    while time.time() < deadline:
        root = app_tree()[0]
        if root is None:
            time.sleep(1)
            continue
        # The window opens on the panel shown last: show the Request panel.
        press(root, "Request", "toggle button")
        time.sleep(1)
        node = find(root, WANTED[1], role="push button")
        if node:
            _, _, w, h = extents(node)
            print(f"size {w} {h}")
            sys.exit(0)
        time.sleep(1)
    print(f"not found: {WANTED[1]}")
    sys.exit(1)

deadline = time.time() + 30
nodes = []
while time.time() < deadline:
    nodes = app_tree()[1]
    if nodes and all(any(n == want for _, n in nodes) for want in WANTED):
        for want in WANTED:
            role = next(r for r, n in nodes if n == want)
            print(f"found: {role} {want!r}")
        sys.exit(audit_panels())
    time.sleep(1)
missing = [w for w in WANTED if not any(n == w for _, n in nodes)]
print(f"not found by name: {missing}")
print("named nodes:", sorted({(r, n) for r, n in nodes if n})[:120])
sys.exit(1)
