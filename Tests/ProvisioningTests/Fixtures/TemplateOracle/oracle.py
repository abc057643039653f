"""Renders each case of a corpus with Ansible's own Templar: the oracle parc's engine is compared to.

Reads JSON cases on stdin: {"template", "vars", "mode": "string"|"file"|"condition", "options"};
prints one JSON result per case: {"value": ..., "type": ...} or {"error": "..."}.
"""
import json
import sys
import warnings

warnings.filterwarnings("ignore")
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar
from ansible.playbook.conditional import Conditional
from ansible.errors import AnsibleError


def plain(v):
    if isinstance(v, (list, tuple)):
        return [plain(x) for x in v]
    if isinstance(v, dict):
        return {str(k): plain(x) for k, x in v.items()}
    if isinstance(v, (bool, int, float)) or v is None:
        return v
    return str(v)


cases = json.load(sys.stdin)
loader = DataLoader()
out = []
for case in cases:
    templar = Templar(loader=loader, variables=case.get("vars", {}))
    try:
        mode = case.get("mode", "string")
        if mode == "file":
            opts = case.get("options", {})
            with templar.set_temporary_context(trim_blocks=opts.get("trim_blocks", True), lstrip_blocks=opts.get("lstrip_blocks", False)):
                v = templar.do_template(case["template"], preserve_trailing_newlines=True, escape_backslashes=False)
        elif mode == "condition":
            c = Conditional(loader=loader)
            c.when = [case["template"]]
            v = c.evaluate_conditional(templar, case.get("vars", {}))
        else:
            v = templar.template(case["template"])
        out.append({"value": plain(v), "type": type(v).__name__})
    except Exception as e:  # the oracle's own failure is a result too
        out.append({"error": str(e).splitlines()[0][:300]})
json.dump(out, sys.stdout)
