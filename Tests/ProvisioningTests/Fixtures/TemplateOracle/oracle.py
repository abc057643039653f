"""Renders each case of a corpus with Ansible's own Templar: the oracle parc's engine is compared to.

Reads JSON cases on stdin: {"template", "vars", "mode": "string"|"file"|"condition", "options"};
prints one JSON result per case: {"value": ..., "type": ...} or {"error": "..."}.
"""
import json
import sys
import warnings

warnings.filterwarnings("ignore")
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template


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
    # What a person wrote in a playbook or a template file is trusted as a template (2.19's rule).
    text = trust_as_template(case["template"])
    try:
        mode = case.get("mode", "string")
        if mode == "file":
            # As the template action renders a file.
            opts = case.get("options", {})
            v = templar.template(text, preserve_trailing_newlines=True, escape_backslashes=False,
                                 overrides=dict(trim_blocks=opts.get("trim_blocks", True), lstrip_blocks=opts.get("lstrip_blocks", False)))
        elif mode == "condition":
            v = templar.evaluate_conditional(text)
        else:
            v = templar.template(text)
        out.append({"value": plain(v), "type": type(v).__name__})
    except Exception as e:  # the oracle's own failure is a result too
        out.append({"error": str(e).splitlines()[0][:300]})
json.dump(out, sys.stdout)
