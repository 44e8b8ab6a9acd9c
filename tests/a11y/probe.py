"""Reads the accessibility tree (AT-SPI) of the running Token Inspector window and finds
each control named on the command line, by its accessible name; prints each with its
role. Then it shows each panel (through its tab's AT-SPI action) and every interactive
control in the tree (buttons, combo boxes, text fields, check boxes, spin buttons) must
have a name. Exit 0 when every wanted one is found within 30 s and none is
unnamed, 1 otherwise (with what was there).
Run by tests/a11y/atspi.sh under Xvfb with the AT-SPI bus; uses the distribution's
python3-pyatspi."""
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


def app_nodes():
    desktop = pyatspi.Registry.getDesktop(0)
    for i in range(desktop.childCount):
        out = []
        walk(desktop.getChildAtIndex(i), 0, out)
        if any(name == "Authorize" for _, name in out):
            return out
    return []


INTERACTIVE = {"push button", "toggle button", "combo box", "entry", "text",
               "check box", "radio button", "spin button", "slider"}


def app_root():
    desktop = pyatspi.Registry.getDesktop(0)
    for i in range(desktop.childCount):
        out = []
        walk(desktop.getChildAtIndex(i), 0, out)
        if any(name == "Authorize" for _, name in out):
            return desktop.getChildAtIndex(i)
    return None


def audit_panels():
    """Shows each panel through its tab's AT-SPI action, then checks that every control
    in the tree has a name."""
    root = app_root()
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
    failed = failed or bool(unnamed) or not token
    return 1 if failed else 0


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


deadline = time.time() + 30
nodes = []
while time.time() < deadline:
    nodes = app_nodes()
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
