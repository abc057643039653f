"""Ansible's side of scripts/bench-template: the same template and variables through Ansible's own
Templar, as its template module renders (trim_blocks, trailing newlines kept); renders per second.

Works with ansible-core 2.17 (`do_template` in a temporary context) and 2.19+, where a string is
only rendered when it is trusted as a template (`trust_as_template`, what the template module does
with a file's text): given as a plain string, 2.19 returns it unrendered and the benchmark would
time a copy."""
import json
import sys
import time
import warnings

warnings.filterwarnings("ignore")
import ansible
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar

template, variables, seconds, out = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
text = open(template, encoding="utf-8").read()
templar = Templar(loader=DataLoader(), variables=json.load(open(variables, encoding="utf-8")))

try:
    from ansible.template import trust_as_template  # ansible-core 2.19 and later
except ImportError:
    trust_as_template = None

if trust_as_template is not None:
    trusted = trust_as_template(text)

    def render():
        return templar.template(trusted, preserve_trailing_newlines=True, escape_backslashes=False,
                                overrides=dict(trim_blocks=True, lstrip_blocks=False))
else:
    def render():
        with templar.set_temporary_context(trim_blocks=True, lstrip_blocks=False):
            return templar.do_template(text, preserve_trailing_newlines=True, escape_backslashes=False)


first = render()
if first == text:
    sys.exit("ansible-core %s returned the template unrendered: nothing would be measured" % ansible.__version__)
open(out, "w", encoding="utf-8").write(first)
count, start = 0, time.perf_counter()
while time.perf_counter() - start < seconds:
    render()
    count += 1
rate = count / (time.perf_counter() - start)
print("ansible-core %s template of %d lines (%d bytes out): %.0f renders/s"
      % (ansible.__version__, len(text.split("\n")), len(first.encode()), rate))
