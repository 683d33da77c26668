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
	{"satellite add", "NAME --key FILE --virtual NAME...", "on the parent: register a satellite by its signing key (`cssm key` on the satellite) for virtual accounts", 1, satelliteAdd},
	{"satellite list", "", "on the parent: list satellites, their last sync and alerts", 0, satelliteList},
	{"satellite revoke", "NAME --instance ID", "on the parent: make a satellite remove one of its product instances at its next sync", 1, satelliteRevoke},
	{"satellite status", "", "on a satellite: its parent, last sync and alert", 0, satelliteStatus},
	{"satellite setup", "--name NAME --parent-key FILE", "make this cssm a satellite of the parent whose key (`cssm key` on the parent) is FILE", 0, satelliteSetup},
	{"satellite sync export", "FILE", "on a disconnected satellite: write the sync file for the parent", 1, satelliteExport},
	{"satellite sync import", "FILE --reply REPLY", "on the parent: import a satellite's sync file and write the reply for it", 1, satelliteImport},
	{"satellite sync apply", "REPLY", "on a disconnected satellite: apply the parent's reply", 1, satelliteApply},
	{"satellite sync", "", "on a connected satellite: synchronize with the parent now", 0, satelliteSync},
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
		p, err := e.portal()
		if err != nil {
			return err
		}
		msg, err := p.AddSatellite(args[0], pem, *virtual)
		if err != nil {
			return err
		}
		fmt.Fprint(e.stdout, msg)
		return nil
	}
}

func satelliteList(fs *pflag.FlagSet) func(*env, []string) error {
	return func(e *env, _ []string) error {
		p, err := e.portal()
		if err != nil {
			return err
		}
		list, err := p.Satellites()
		if err != nil {
			return err
		}
		return cssm.WriteSatellites(e.stdout, list)
	}
}

func satelliteRevoke(fs *pflag.FlagSet) func(*env, []string) error {
	id := fs.String("instance", "", "the product instance's ID on the satellite")
	return func(e *env, args []string) error {
		if err := required("instance", *id); err != nil {
			return err
		}
		p, err := e.portal()
		if err != nil {
			return err
		}
		msg, err := p.RevokeSatelliteInstance(args[0], *id)
		if err != nil {
			return err
		}
		fmt.Fprint(e.stdout, msg)
		return nil
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
		p, err := e.portal()
		if err != nil {
			return err
		}
		msg, err := p.SetupSatellite(*name, pem)
		if err != nil {
			return err
		}
		fmt.Fprint(e.stdout, msg)
		return nil
	}
}

func satelliteExport(fs *pflag.FlagSet) func(*env, []string) error {
	return func(e *env, args []string) error {
		p, err := e.portal()
		if err != nil {
			return err
		}
		data, err := p.ExportSync()
		if err != nil {
			return err
		}
		if err := atomicfile.Write(args[0], data, 0o600); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "Wrote the sync file %s; import it on the parent with `cssm satellite sync import %s --reply REPLY`.\n", args[0], args[0])
		return nil
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
		p, err := e.portal()
		if err != nil {
			return err
		}
		reply, err := p.ImportSync(data)
		if err != nil {
			return err
		}
		if err := atomicfile.Write(*replyFile, reply, 0o600); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "Imported %s; apply the reply %s on the satellite with `cssm satellite sync apply %s`.\n", args[0], *replyFile, *replyFile)
		return nil
	}
}

func satelliteApply(fs *pflag.FlagSet) func(*env, []string) error {
	return func(e *env, args []string) error {
		data, err := readBounded(args[0], 8<<20)
		if err != nil {
			return err
		}
		p, err := e.portal()
		if err != nil {
			return err
		}
		msg, err := p.ApplySync(data)
		if err != nil {
			return err
		}
		fmt.Fprint(e.stdout, msg)
		return nil
	}
}

func satelliteSync(fs *pflag.FlagSet) func(*env, []string) error {
	return func(e *env, _ []string) error {
		p, err := e.portal()
		if err != nil {
			return err
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		msg, err := p.SyncNow(ctx, &http.Client{Timeout: time.Minute})
		if err != nil {
			return err
		}
		fmt.Fprint(e.stdout, msg)
		return nil
	}
}

func satelliteStatus(fs *pflag.FlagSet) func(*env, []string) error {
	return func(e *env, _ []string) error {
		p, err := e.portal()
		if err != nil {
			return err
		}
		st, err := p.Status()
		if err != nil {
			return err
		}
		return cssm.WriteSatelliteStatus(e.stdout, st)
	}
}
