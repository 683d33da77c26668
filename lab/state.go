package lab

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ucmsh/ucmsh/internal/atomicfile"
	"github.com/ucmsh/ucmsh/internal/clock"
	"github.com/ucmsh/ucmsh/internal/statedir"
	"github.com/ucmsh/ucmsh/sshd"
)

// layout is the lab folder; no other code spells its names.
//
//	lab.json         the lab as started: file, addresses, seeded tokens, clock, faults
//	lab.lock         held by the running lab
//	control.json     the control plane's URL and secret (0600)
//	inventory.json   nodes for automation; inventory.ini and .yml the same for Ansible
//	cssm-store/      cssm's store (not "cssm": its key would go to ../node/trust)
//	nodes/HOST/      each node's state folder
//	snapshots/NAME/  saved snapshots
//	faults/C.code    the code of a reservation-other-udi fault on cluster C
//	cssm-key.pem     cssm's public key, for the nodes of other shards (--cssm-key)
//	accounts/        the accounts' password hashes while they are made (once for all nodes)
type layout string

func (d layout) root() string                { return string(d) }
func (d layout) saved() string               { return filepath.Join(string(d), "lab.json") }
func (d layout) lock() string                { return filepath.Join(string(d), "lab.lock") }
func (d layout) control() string             { return filepath.Join(string(d), "control.json") }
func (d layout) inventoryJSON() string       { return filepath.Join(string(d), "inventory.json") }
func (d layout) inventoryYAML() string       { return filepath.Join(string(d), "inventory.yml") }
func (d layout) inventoryINI() string        { return filepath.Join(string(d), "inventory.ini") }
func (d layout) cssm() string                { return filepath.Join(string(d), "cssm-store") }
func (d layout) nodes() string               { return filepath.Join(string(d), "nodes") }
func (d layout) node(host string) string     { return filepath.Join(d.nodes(), host) }
func (d layout) snapshots() string           { return filepath.Join(string(d), "snapshots") }
func (d layout) snapshot(name string) string { return filepath.Join(d.snapshots(), name) }
func (d layout) faults() string              { return filepath.Join(string(d), "faults") }
func (d layout) faultCode(cluster string) string {
	return filepath.Join(d.faults(), cluster+".code")
}
func (d layout) cssmKey() string  { return filepath.Join(string(d), "cssm-key.pem") }
func (d layout) accounts() string { return filepath.Join(string(d), "accounts") }

// ControlFile is where a lab in dir keeps its control plane's address and
// secret.
func ControlFile(dir string) string { return layout(dir).control() }

// InventoryFiles are the JSON and Ansible (INI) inventories of a lab in dir.
func InventoryFiles(dir string) (jsonFile, iniFile string) {
	return layout(dir).inventoryJSON(), layout(dir).inventoryINI()
}

// saved is lab.json.
type saved struct {
	Version     int                    `json:"version"`
	File        File                   `json:"file"`
	AllowRemote bool                   `json:"allow_remote"`
	Places      []Place                `json:"places"`
	CSSMAddr    string                 `json:"cssm_address"`
	Fronts      map[string]string      `json:"cluster_fronts"`
	ControlAddr string                 `json:"control_address"`
	Tokens      map[string]SeededToken `json:"tokens,omitempty"` // nil until seeded
	Clock       savedClock             `json:"clock"`
	Faults      []Fault                `json:"faults,omitempty"`
	Shard       Shard                  `json:"shard,omitzero"`
	External    ExternalCSSM           `json:"external_cssm,omitzero"`
}

// mine: the node is served by this lab (its shard).
func (sv *saved) mine(p Place) bool { return sv.Shard.has(p.cluster) }

func (l *Lab) mineCluster(name string) bool {
	for i, c := range l.saved.File.Clusters {
		if c.Name == name {
			return l.saved.Shard.has(i)
		}
	}
	return false
}

// savedClock: the lab clock read Sim when the machine's read Wall. A lab
// that was down resumes as if its clock had kept running.
type savedClock struct {
	Sim   time.Time `json:"lab_time"`
	Wall  time.Time `json:"real_time"`
	Speed float64   `json:"speed"`
}

func (c savedClock) resume(wall func() time.Time) (*clock.Running, error) {
	if wall == nil {
		wall = time.Now
	}
	gone := wall().Sub(c.Wall)
	if gone < 0 {
		gone = 0
	}
	return clock.NewRunning(c.Sim.Add(time.Duration(float64(gone)*c.Speed)), c.Speed, wall)
}

func (sv *saved) faultPointers() []*Fault {
	out := make([]*Fault, len(sv.Faults))
	for i := range sv.Faults {
		f := sv.Faults[i]
		out[i] = &f
	}
	return out
}

func loadSaved(d layout) (*saved, error) {
	data, err := os.ReadFile(d.saved())
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var sv saved
	if err := json.Unmarshal(data, &sv); err != nil {
		return nil, fmt.Errorf(msgSavedDamaged, d.saved(), err)
	}
	places, err := Resolve(&sv.File, sv.AllowRemote)
	if err != nil || len(places) != len(sv.Places) {
		return nil, fmt.Errorf(msgSavedMismatch, d.saved())
	}
	for i := range places {
		places[i].Port = sv.Places[i].Port
	}
	sv.Places = places
	return &sv, nil
}

func (l *Lab) save() error {
	l.saveMu.Lock()
	defer l.saveMu.Unlock()
	l.saved.Faults = l.faults.snapshot()
	data, err := json.MarshalIndent(l.saved, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.Write(l.dir.saved(), append(data, '\n'), 0o600)
}

func (l *Lab) saveClock() error {
	wall := l.cfg.Wall
	if wall == nil {
		wall = time.Now
	}
	l.saveMu.Lock()
	l.saved.Clock = savedClock{Sim: l.clock.Now(), Wall: wall().UTC(), Speed: l.clock.Speed()}
	l.saveMu.Unlock()
	return l.save()
}

func sameFile(a, b *File) bool {
	ca, cb := *a, *b
	ca.Accounts, cb.Accounts = nil, nil
	ja, _ := json.Marshal(ca)
	jb, _ := json.Marshal(cb)
	return bytes.Equal(ja, jb)
}

// lockDir makes sure one lab runs in a folder.
func lockDir(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf(msgAlreadyRunning, filepath.Dir(path), filepath.Dir(path))
	}
	return func() { f.Close() }, nil
}

// prepareAccounts makes the users file (bcrypt hashes, once for all nodes)
// and the authorized_keys file every node gets.
func prepareAccounts(d layout, accounts []Account) (users, keys []byte, err error) {
	tmp := d.accounts()
	if err := os.RemoveAll(tmp); err != nil {
		return nil, nil, err
	}
	var kb bytes.Buffer
	for _, a := range accounts {
		if a.PasswordFile != "" {
			data, err := os.ReadFile(a.PasswordFile)
			if err != nil {
				return nil, nil, fmt.Errorf(msgReadPassword, a.Name, err)
			}
			pw, _, _ := strings.Cut(string(data), "\n")
			pw = strings.TrimSuffix(pw, "\r")
			if err := sshd.AddUser(tmp, a.Name, []byte(pw), true); err != nil {
				return nil, nil, fmt.Errorf(msgAccount, a.Name, a.PasswordFile, err)
			}
		}
		if a.AuthorizedKeysFile != "" {
			data, err := os.ReadFile(a.AuthorizedKeysFile)
			if err != nil {
				return nil, nil, fmt.Errorf(msgReadKeys, a.Name, err)
			}
			kb.Write(data)
			if len(data) > 0 && data[len(data)-1] != '\n' {
				kb.WriteByte('\n')
			}
		}
	}
	users, err = os.ReadFile(filepath.Join(tmp, sshd.UsersFile))
	os.RemoveAll(tmp)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, nil, err
	}
	return users, kb.Bytes(), nil
}

// prepareNode makes a node's folder: accounts and, on a publisher, trust
// in the lab's cssm.
func (l *Lab) prepareNode(state string, publisher bool) error {
	n := statedir.Node(state)
	if err := os.MkdirAll(n.SSH(), 0o700); err != nil {
		return err
	}
	if len(l.users) > 0 {
		if err := atomicfile.Write(n.Users(), l.users, 0o600); err != nil {
			return err
		}
	}
	if len(l.keys) > 0 {
		if err := atomicfile.Write(n.AuthorizedKeys(), l.keys, 0o600); err != nil {
			return err
		}
	}
	if publisher {
		if err := os.MkdirAll(n.Trust(), 0o700); err != nil {
			return err
		}
		if err := atomicfile.Write(filepath.Join(n.Trust(), "lab-cssm.pem"), l.trustPEM(), 0o600); err != nil {
			return err
		}
	}
	return nil
}
