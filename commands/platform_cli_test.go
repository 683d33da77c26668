package commands

import (
	"strings"
	"testing"
)

// "?" glued to a word works like " ?" after it (REFERENCE §1: captured
// admin:file list activelog?), both on a menu word and on a command.
func TestGluedQuestionMark(t *testing.T) {
	r := newNode(t).at(t0, labUsage)
	for glued, spaced := range map[string]string{
		"license smart register idtoken?": "license smart register idtoken ?",
		"license smart?":                  "license smart ?",
		"show network eth0?":              "show network eth0 ?",
		"utils?":                          "utils ?",
	} {
		got, res := run(r, glued)
		want, _ := run(r, spaced)
		if res != OK || got != want || got == "" {
			t.Errorf("%s printed\n%s\nwant, as %s:\n%s", glued, got, spaced, want)
		}
	}
	// After a menu word "?" lists its sub-commands as Tab does.
	if out, _ := run(r, "utils ?"); out != "dbreplication*  ntp*            service*\n" {
		t.Errorf("utils ?: %q", out)
	}
	if out, _ := run(r, "show network eth0 ?"); !strings.HasPrefix(out, "Syntax:\nshow network eth0 [detail]\n") {
		t.Errorf("show network eth0 ?: %q", out)
	}
}

// Tab on a complete word with sub-commands lists them (nothing is
// inserted, so the shell lists); with one sub-command it completes it;
// on a complete command it offers nothing, so the line stays.
func TestTabOnCompleteWords(t *testing.T) {
	r := NewRunner(Publisher, testProfile(t, nil), nil)
	for _, tc := range []struct{ line, partial, words, labels string }{
		{"license smart", "smart", "smart smart smart smart smart smart smart", "register* deregister renew* transport* factory* reservation* export*"},
		{"show network", "network", "network network", "cluster eth0"},
		{"SHOW LICENSE TECH", "TECH", "tech support", "support"},
		{"utils service", "service", "service list", "list"},
		{"show license all", "all", "", ""},
		{"show status", "status", "", ""},
		{"license smart reservation return", "return", "return return-authorization", "return return-authorization"},
	} {
		partial, cands := r.Complete(tc.line)
		var words, labels []string
		for _, c := range cands {
			words = append(words, c.Word)
			labels = append(labels, c.Label)
		}
		if partial != tc.partial || strings.Join(words, " ") != tc.words || strings.Join(labels, " ") != tc.labels {
			t.Errorf("Complete(%q) = %q, %q, %q; want %q, %q, %q", tc.line, partial, words, labels, tc.partial, tc.words, tc.labels)
		}
	}
}

// help <command> has the CLI guide's layout: no Syntax: block.
func TestHelpLayout(t *testing.T) {
	r := NewRunner(Publisher, testProfile(t, nil), nil)
	out, res := run(r, "help show network eth0")
	want := "eth0 help:\n" +
		"This command shows the address, mask, link, DNS and gateway settings of Ethernet 0; detail adds its counters.\n" +
		"\noptions are:\ndetail  - add the interface counters\n" +
		"\nExample:\nadmin:show network eth0 detail\n"
	if res != OK || out != want {
		t.Fatalf("help show network eth0:\n%s\nwant:\n%s", out, want)
	}
	if out, _ := run(r, "help show status"); strings.Contains(out, "options are:") || strings.Contains(out, "Syntax:") {
		t.Fatalf("help show status:\n%s", out)
	}
}

// The platform commands are in the table, so Tab, "?" and help all know
// them.
func TestPlatformCommandsInTheTable(t *testing.T) {
	r := NewRunner(Publisher, testProfile(t, nil), nil)
	for line, want := range map[string]string{
		"show ":         "cli* hardware license* myself network* status timezone* version*",
		"show network ": "cluster eth0",
		"show version ": "active inactive",
		"utils ":        "dbreplication* ntp* service*",
	} {
		if _, cands := r.Complete(line); candLabels(cands) != want {
			t.Errorf("Tab after %q: %s, want %s", line, candLabels(cands), want)
		}
	}
	all, _ := run(r, "help all")
	for _, cmd := range platformCommands {
		if strings.HasPrefix(cmd, "show network eth0") {
			cmd = "show network eth0 [detail]"
		}
		if !strings.Contains(all, "\n"+cmd+"\n") {
			t.Errorf("help all lacks %s", cmd)
		}
		if out, res := run(r, "help "+strings.TrimSuffix(cmd, " [detail]")); res != OK || !strings.Contains(out, " help:\n") {
			t.Errorf("help %s: %s", cmd, out)
		}
	}
}
