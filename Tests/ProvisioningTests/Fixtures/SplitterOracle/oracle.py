# Ansible's own reading of key=value text and Python's shlex, for parc's splitting tests: reads
# [[kind, text, flag], ...] as JSON on stdin, prints one answer per case as JSON.
#   kind "kv":    ansible.parsing.splitter.parse_kv(text, check_raw=flag) -> {"args": {...}} or {"error": "..."}
#   kind "shlex": shlex.split(text) -> {"words": [...]} or {"error": "..."}
import json
import shlex
import sys

from ansible.parsing.splitter import parse_kv

answers = []
for kind, text, flag in json.load(sys.stdin):
    try:
        if kind == "kv":
            answers.append({"args": {k: str(v) for k, v in parse_kv(text, check_raw=flag).items()}})
        else:
            answers.append({"words": shlex.split(text)})
    except Exception as e:  # the failure is an answer too
        answers.append({"error": type(e).__name__})
print(json.dumps(answers))
