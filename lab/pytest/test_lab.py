"""What a playbook does against a fleet, through the generated inventory.

`show version active` and `show myself` work on every node; `show license
summary` reports on publishers and prints nothing on subscribers (as on CUCM).
"""


def ansible_groups(path):
    """The groups of an Ansible INI inventory: {group: [host, ...]}."""
    groups, current = {}, None
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith("[") and line.endswith("]"):
                current = line[1:-1]
                groups.setdefault(current, [])
            elif line and current and not current.endswith(":vars"):
                groups[current].append(line.split()[0])
    return groups


def test_inventory_has_a_group_per_cluster_and_role(lab):
    groups = ansible_groups(lab.dir + "/inventory.ini")
    assert groups["cluster1"] == ["c1-pub", "c1-sub1", "c1-sub2"]
    assert groups["publishers"] == ["c1-pub", "c2-pub", "c3-pub"]
    assert len(groups["subscribers"]) == 6


def test_show_version_active_everywhere(lab):
    for node in lab.nodes():
        status, out = lab.run(node, "show version active")
        assert status == 0 and out.startswith("Active Master Version: "), (node["hostname"], out)


def test_show_myself_everywhere(lab):
    for node in lab.nodes():
        status, out = lab.run(node, "show myself")
        assert status == 0 and "admin" in out, (node["hostname"], out)


def test_license_summary_on_publishers_only(lab):
    for node in lab.nodes("publisher"):
        status, out = lab.run(node, "show license summary")
        assert status == 0 and "Smart Licensing is ENABLED" in out, (node["hostname"], out)
    for node in lab.nodes("subscriber"):
        status, out = lab.run(node, "show license summary")
        assert status == 0 and out == "", (node["hostname"], out)


def test_register_then_cssm_breaks_and_recovers(lab):
    pub = lab.nodes("publisher")[0]
    token = next(t["token"] for t in lab.inventory["tokens"] if t["name"] == pub["cluster"])
    status, out = lab.run(pub, "license smart register idtoken " + token)
    assert status == 0, out
    lab.ctl("fault", "set", pub["cluster"], "http-5xx")
    status, out = lab.run(pub, "license smart renew auth")
    assert status == 1
    _, out = lab.run(pub, "show license status")
    assert "Failure reason: The licensing server is temporarily unavailable (HTTP 503)" in out
    lab.ctl("fault", "clear", pub["cluster"])
    status, out = lab.run(pub, "license smart renew auth")
    assert status == 0, out
