package lab

import (
	"errors"
	"os"
	"strings"
	"testing"
)

const twoClusters = `{
  "address_plan": {"kind": "ports", "first_port": 2201},
  "cssm": {"accounts": [{"smart_account": "Lab", "virtual_account": "east",
    "licenses": [{"tier": "Enhanced", "count": 10}], "export_keys": 1,
    "tokens": [{"name": "east", "allow_export": true}]}]},
  "accounts": [{"name": "admin", "password_file": "pw"}],
  "clusters": [
    {"name": "east", "token": "east", "nodes": [
      {"hostname": "east-pub", "role": "publisher", "usage": {"Enhanced": 3}},
      {"hostname": "east-sub1", "role": "subscriber", "usage": {"enhanced": 2}}]},
    {"name": "west", "nodes": [{"hostname": "west-pub", "role": "publisher"}]}
  ]
}`

func TestParseFileGoodLab(t *testing.T) {
	f, err := ParseFile([]byte(twoClusters))
	if err != nil {
		t.Fatal(err)
	}
	places, err := Resolve(f, false)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range places {
		got = append(got, p.Hostname+"="+p.Addr())
	}
	if want := "east-pub=127.0.0.1:2201 east-sub1=127.0.0.1:2202 west-pub=127.0.0.1:2203"; strings.Join(got, " ") != want {
		t.Fatalf("ports plan: %s, want %s", strings.Join(got, " "), want)
	}
}

func TestHostsPlanGivesEachNodeItsOwnAddress(t *testing.T) {
	f, err := ParseFile([]byte(strings.Replace(twoClusters, `{"kind": "ports", "first_port": 2201}`, `{"kind": "hosts", "port": 2222}`, 1)))
	if err != nil {
		t.Fatal(err)
	}
	places, err := Resolve(f, false)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range places {
		got = append(got, p.Addr())
	}
	if want := "127.1.1.1:2222 127.1.1.2:2222 127.1.2.1:2222"; strings.Join(got, " ") != want {
		t.Fatalf("hosts plan: %s, want %s", strings.Join(got, " "), want)
	}
}

// Each mistake is refused with the path of the field at fault.
func TestParseFileRefusals(t *testing.T) {
	for _, tc := range []struct{ name, from, to, want string }{
		{"unknown field", `"role": "publisher", "usage": {"Enhanced": 3}`, `"role": "publisher", "usage": {"Enhanced": 3}, "colour": "red"`, `unknown field "colour"`},
		{"duplicate host", `"hostname": "west-pub"`, `"hostname": "EAST-sub1"`, `clusters[1].nodes[0].hostname: host name "EAST-sub1" is used twice (also at clusters[0].nodes[1])`},
		{"no publisher", `{"hostname": "west-pub", "role": "publisher"}`, `{"hostname": "west-pub", "role": "subscriber"}`, `clusters[1].nodes: a cluster has exactly one publisher, not 0`},
		{"two publishers", `"east-sub1", "role": "subscriber"`, `"east-sub1", "role": "publisher"`, `clusters[0].nodes: a cluster has exactly one publisher, not 2`},
		{"bad role", `"east-sub1", "role": "subscriber"`, `"east-sub1", "role": "sub"`, `clusters[0].nodes[1].role: "sub" is not a role`},
		{"bad tier", `"usage": {"enhanced": 2}`, `"usage": {"Gold": 2}`, `clusters[0].nodes[1].usage: names "Gold"`},
		{"unknown token", `"token": "east"`, `"token": "north"`, `clusters[0].token: names token "north"`},
		{"no credential", `{"name": "admin", "password_file": "pw"}`, `{"name": "admin"}`, `accounts[0]: give "password_file" or "authorized_keys_file" (there is no default password)`},
		{"bad plan", `"kind": "ports"`, `"kind": "ring"`, `address_plan.kind: "ring" is not an address plan`},
		{"wrong type", `"count": 10`, `"count": "ten"`, `cssm.accounts.licenses.count: must be a JSON int, not string`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(twoClusters, tc.from) {
				t.Fatalf("test fixture lacks %s", tc.from)
			}
			_, err := ParseFile([]byte(strings.Replace(twoClusters, tc.from, tc.to, 1)))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %s", err, tc.want)
			}
		})
	}
}

func TestResolveRefusals(t *testing.T) {
	for _, tc := range []struct{ name, from, to, want string }{
		{"remote address", `"hostname": "west-pub", "role": "publisher"`, `"hostname": "west-pub", "role": "publisher", "address": "192.0.2.7:22"`, `clusters[1].nodes[0].address: 192.0.2.7 is outside 127.0.0.0/8; add --allow-remote`},
		{"duplicate address", `"hostname": "west-pub", "role": "publisher"`, `"hostname": "west-pub", "role": "publisher", "address": "127.0.0.1:2202"`, `clusters[1].nodes[0].address: address 127.0.0.1:2202 is also clusters[0].nodes[1] (east-sub1)'s`},
		{"remote plan host", `"first_port": 2201`, `"host": "10.0.0.1", "first_port": 2201`, `clusters[0].nodes[0] (address_plan): 10.0.0.1 is outside 127.0.0.0/8`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := ParseFile([]byte(strings.Replace(twoClusters, tc.from, tc.to, 1)))
			if err != nil {
				t.Fatal(err)
			}
			_, err = Resolve(f, false)
			var fe *FieldError
			if !errors.As(err, &fe) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want a field error containing %s", err, tc.want)
			}
		})
	}
	f, _ := ParseFile([]byte(strings.Replace(twoClusters, `"first_port": 2201`, `"host": "10.0.0.1", "first_port": 2201`, 1)))
	if _, err := Resolve(f, true); err != nil {
		t.Fatalf("--allow-remote still refused: %v", err)
	}
}

func TestGenerateDefaultSeed(t *testing.T) {
	f, err := Generate(3, 2, Plan{})
	if err != nil {
		t.Fatal(err)
	}
	places, err := Resolve(f, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(places) != 9 || places[0].Hostname != "c1-pub" || places[8].Hostname != "c3-sub2" || places[8].Port != 2209 {
		t.Fatalf("default lab: %+v", places)
	}
	if f.Clusters[2].Token != "cluster3" || f.CSSM.Accounts[2].Virtual != "cluster3" {
		t.Fatalf("default seed: %+v", f.Clusters[2])
	}
}

func FuzzParseFile(f *testing.F) {
	f.Add([]byte(twoClusters))
	f.Add([]byte(`{"clusters":[{"name":"a","nodes":[{"hostname":"a","role":"publisher","address":"127.0.0.1:1"}]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		lf, err := ParseFile(data)
		if err != nil {
			return
		}
		_, _ = Resolve(lf, false)
	})
}

// The lab file shown in README is a valid lab file.
func TestREADMELabFile(t *testing.T) {
	data, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(data), "### The lab file\n")
	_, rest, ok2 := strings.Cut(rest, "```json\n")
	block, _, ok3 := strings.Cut(rest, "```\n")
	if !ok || !ok2 || !ok3 {
		t.Fatal("README has no lab file example under \"### The lab file\"")
	}
	f, err := ParseFile([]byte(block))
	if err != nil {
		t.Fatalf("README's lab file: %v", err)
	}
	if _, err := Resolve(f, false); err != nil {
		t.Fatalf("README's lab file: %v", err)
	}
}

// Names are checked to their last allowed character: 63 for host and
// cluster names (a DNS label), 32 for accounts.
func TestParseFileNameLengths(t *testing.T) {
	long := func(n int) string { return "a" + strings.Repeat("b", n-1) }
	for _, tc := range []struct {
		from, field string
		max         int
	}{
		{`"hostname": "west-pub"`, "clusters[1].nodes[0].hostname", 63},
		{`"name": "west"`, "clusters[1].name", 63},
		{`"name": "admin"`, "accounts[0].name", 32},
	} {
		key, _, _ := strings.Cut(tc.from, ":")
		at := func(n int) error {
			_, err := ParseFile([]byte(strings.Replace(twoClusters, tc.from, key+`: "`+long(n)+`"`, 1)))
			return err
		}
		if err := at(tc.max); err != nil {
			t.Errorf("%s of %d characters refused: %v", tc.field, tc.max, err)
		}
		if err := at(tc.max + 1); err == nil || !strings.HasPrefix(err.Error(), tc.field+":") {
			t.Errorf("%s of %d characters: %v, want it refused at %s", tc.field, tc.max+1, err, tc.field)
		}
	}
}
