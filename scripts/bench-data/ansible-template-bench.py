"""Ansible's side of scripts/bench-template: the same template and variables through Ansible's own
Templar, as its template module renders (trim_blocks, trailing newlines kept); renders per second."""
import json
import sys
import time
import warnings

warnings.filterwarnings("ignore")
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar

template, variables, seconds, out = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
text = open(template, encoding="utf-8").read()
templar = Templar(loader=DataLoader(), variables=json.load(open(variables, encoding="utf-8")))


def render():
    with templar.set_temporary_context(trim_blocks=True, lstrip_blocks=False):
        return templar.do_template(text, preserve_trailing_newlines=True, escape_backslashes=False)


first = render()
open(out, "w", encoding="utf-8").write(first)
count, start = 0, time.perf_counter()
while time.perf_counter() - start < seconds:
    render()
    count += 1
rate = count / (time.perf_counter() - start)
print("ansible  template of %d lines (%d bytes out): %.0f renders/s" % (len(text.split("\n")), len(first.encode()), rate))
