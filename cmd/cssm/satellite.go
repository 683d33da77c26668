package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/spf13/pflag"

	"github.com/ucmsh/ucmsh/cssm"
	"github.com/ucmsh/ucmsh/internal/atomicfile"
)

// Satellite commands (cssm/satellite.go): on the parent, add, list, revoke
// and sync import; on the satellite, setup, sync (connected), sync export and
// sync apply (disconnected).
var satelliteCommands = []command{
	{name: "satellite add", args: "NAME --key FILE --virtual NAME...", summary: "on the parent: register a satellite by its signing key (`cssm key` on the satellite) for virtual accounts", nargs: 1, prepare: satelliteAdd},
	{name: "satellite list", summary: "on the parent: list satellites, their last sync and alerts", prepare: satelliteList},
	{name: "satellite revoke", args: "NAME --instance ID", summary: "on the parent: make a satellite remove one of its product instances at its next sync", nargs: 1, prepare: satelliteRevoke},
	{name: "satellite status", summary: "on a satellite: its parent, last sync and alert", prepare: satelliteStatus},
	{name: "satellite setup", args: "--name NAME --parent-key FILE", summary: "make this cssm a satellite of the parent whose key (`cssm key` on the parent) is FILE", prepare: satelliteSetup},
	{name: "satellite sync export", args: "FILE", summary: "on a disconnected satellite: write the sync file for the parent", nargs: 1, prepare: satelliteExport},
	{name: "satellite sync import", args: "FILE --reply REPLY", summary: "on the parent: import a satellite's sync file and write the reply for it", nargs: 1, prepare: satelliteImport},
	{name: "satellite sync apply", args: "REPLY", summary: "on a disconnected satellite: apply the parent's reply", nargs: 1, prepare: satelliteApply},
	{name: "satellite sync", summary: "on a connected satellite: synchronize with the parent now", prepare: satelliteSync},
}

func init() { commands = append(commands, satelliteCommands...) }

func readBounded(path string, limit int64) ([]byte, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if st.Size() > limit {
		return nil, fmt.Errorf("%s is larger than %d MiB", path, limit>>20)
	}
	return os.ReadFile(path)
}

func satelliteAdd(fs *pflag.FlagSet) func(*env, []string) error {
	keyFile := fs.String("key", "", "the satellite's signing public key (PEM)")
	virtual := fs.StringArray("virtual", nil, "a virtual account the satellite serves (repeatable)")
	return func(e *env, args []string) error {
		if err := required("key", *keyFile); err != nil {
			return err
		}
		pem, err := readBounded(*keyFile, 1<<20)
		if err != nil {
			return err
		}
		return say(e, func(p *cssm.Portal) (string, error) { return p.AddSatellite(args[0], pem, *virtual) })
	}
}

func satelliteList(fs *pflag.FlagSet) func(*env, []string) error {
	return func(e *env, _ []string) error {
		return show(e, (*cssm.Portal).Satellites, cssm.WriteSatellites)
	}
}

func satelliteRevoke(fs *pflag.FlagSet) func(*env, []string) error {
	id := fs.String("instance", "", "the product instance's ID on the satellite")
	return func(e *env, args []string) error {
		if err := required("instance", *id); err != nil {
			return err
		}
		return say(e, func(p *cssm.Portal) (string, error) { return p.RevokeSatelliteInstance(args[0], *id) })
	}
}

func satelliteSetup(fs *pflag.FlagSet) func(*env, []string) error {
	name := fs.String("name", "", "this satellite's name, as registered on the parent")
	keyFile := fs.String("parent-key", "", "the parent's signing public key (PEM)")
	return func(e *env, _ []string) error {
		if err := required("name", *name); err != nil {
			return err
		}
		if err := required("parent-key", *keyFile); err != nil {
			return err
		}
		pem, err := readBounded(*keyFile, 1<<20)
		if err != nil {
			return err
		}
		return say(e, func(p *cssm.Portal) (string, error) { return p.SetupSatellite(*name, pem) })
	}
}

func satelliteExport(fs *pflag.FlagSet) func(*env, []string) error {
	return func(e *env, args []string) error {
		return say(e, func(p *cssm.Portal) (string, error) {
			data, err := p.ExportSync()
			if err != nil {
				return "", err
			}
			if err := atomicfile.Write(args[0], data, 0o600); err != nil {
				return "", err
			}
			return fmt.Sprintf("Wrote the sync file %s; import it on the parent with `cssm satellite sync import %s --reply REPLY`.\n", args[0], args[0]), nil
		})
	}
}

func satelliteImport(fs *pflag.FlagSet) func(*env, []string) error {
	replyFile := fs.String("reply", "", "where to write the reply for the satellite")
	return func(e *env, args []string) error {
		if err := required("reply", *replyFile); err != nil {
			return err
		}
		data, err := readBounded(args[0], 8<<20)
		if err != nil {
			return err
		}
		return say(e, func(p *cssm.Portal) (string, error) {
			reply, err := p.ImportSync(data)
			if err != nil {
				return "", err
			}
			if err := atomicfile.Write(*replyFile, reply, 0o600); err != nil {
				return "", err
			}
			return fmt.Sprintf("Imported %s; apply the reply %s on the satellite with `cssm satellite sync apply %s`.\n", args[0], *replyFile, *replyFile), nil
		})
	}
}

func satelliteApply(fs *pflag.FlagSet) func(*env, []string) error {
	return func(e *env, args []string) error {
		data, err := readBounded(args[0], 8<<20)
		if err != nil {
			return err
		}
		return say(e, func(p *cssm.Portal) (string, error) { return p.ApplySync(data) })
	}
}

func satelliteSync(fs *pflag.FlagSet) func(*env, []string) error {
	return func(e *env, _ []string) error {
		return say(e, func(p *cssm.Portal) (string, error) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			return p.SyncNow(ctx, &http.Client{Timeout: time.Minute})
		})
	}
}

func satelliteStatus(fs *pflag.FlagSet) func(*env, []string) error {
	return func(e *env, _ []string) error {
		return show(e, (*cssm.Portal).Status, cssm.WriteSatelliteStatus)
	}
}
