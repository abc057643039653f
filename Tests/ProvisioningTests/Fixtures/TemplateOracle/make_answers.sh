#!/usr/bin/env bash
# Writes answers.json: Ansible's own results for corpus.json (the oracle, rendered once by
# oracle.py with the Ansible of .venv-ansible), so that parc's engine is checked against them
# offline too. The test regenerates them and compares when Ansible is there (always in CI).
set -euo pipefail
cd "$(dirname "$0")"
python=../../../../.venv-ansible/bin/python
version=$("$python" -c 'import ansible.release; print(ansible.release.__version__)')
HOME=$(mktemp -d) ANSIBLE_LOCAL_TEMP=$(mktemp -d) "$python" oracle.py < corpus.json 2>/dev/null \
  | "$python" -c 'import json, sys
results = json.load(sys.stdin)
print("{\"ansible_core\": %s, \"results\": [" % json.dumps(sys.argv[1]))
print(",\n".join(json.dumps(r, ensure_ascii=False) for r in results))
print("]}")' "$version" > answers.json
echo "answers.json: $(grep -c '' answers.json) lines, ansible-core $version"
