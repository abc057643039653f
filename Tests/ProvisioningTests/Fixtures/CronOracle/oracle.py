"""Ansible's own cron module (its CronTab class) on the cases of CronEditTests: the oracle of
parc's CronEdit. Reads [[existing, params], ...] as JSON on stdin, prints one result per case."""
import sys, types, json
sys.argv=['x']
from ansible.modules import cron as C
class M:
    def __init__(s): s.check_mode=False; s._diff=False
    def get_bin_path(s,*a,**k): return '/usr/bin/crontab'
    def fail_json(s, **k): raise Exception(k['msg'])
    def warn(s,*a): pass
def run(existing, p, cron_file=True):
    ct = C.CronTab.__new__(C.CronTab)
    ct.module=M(); ct.root=True; ct.lines=existing.splitlines(); ct.n_existing=existing; ct.cron_file='/etc/cron.d/x' if cron_file else None
    ct.user=p.get('user'); ct.ansible='#Ansible: '
    name=p['name']; job=p.get('job'); env=p.get('env',False); state=p.get('state','present')
    changed=False
    if env:
        decl='%s="%s"'%(name,job); old=ct.find_env(name)
        if state=='present':
            if not old: ct.add_env(decl,p.get('insertafter'),p.get('insertbefore')); changed=True
            if old and old[1]!=decl: ct.update_env(name,decl); changed=True
        elif old: ct.remove_env(name); changed=True
    else:
        if state=='present':
            j=ct.get_cron_job(p.get('minute','*'),p.get('hour','*'),p.get('day','*'),p.get('month','*'),p.get('weekday','*'),job,p.get('special_time'),p.get('disabled',False))
            old=ct.find_job(name,j)
            if not old: ct.add_job(name,j); changed=True
            if old and old[1]!=j: ct.update_job(name,j); changed=True
            if len(old)>2: ct.update_job(name,j); changed=True
        else:
            old=ct.find_job(name)
            if old:
                ct.remove_job(name); changed=True
                if ct.cron_file and ct.is_empty(): return {'removed':True}
    return {'text':ct.render(),'changed':changed}
cases=json.load(sys.stdin)
print(json.dumps([run(e,p) for e,p in cases]))
