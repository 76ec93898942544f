package ideconfig

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/tailscale/hujson"
)

// Uninstall undoes the installs recorded for client c on the file at loc, newest first.
// When the file still holds exactly what install wrote, the backup is written back byte
// for byte; when the IDE changed the file since, the original entries are put back into
// the current file instead, and a note says so. Entries whose credentials went into the
// keyring stay behind Airlock unless restoreSecrets is set: then their original
// plaintext goes back into the file and the keyring entries are deleted.
func (in *Installer) Uninstall(c Client, loc Location, restoreSecrets bool) (*Result, error) {
	path := realPath(loc.Path)
	recs, err := LoadRecords(in.Home)
	if err != nil {
		return nil, err
	}
	var gens []int
	for _, i := range recs.forFile(path) {
		if recs.Installs[i].Client == c {
			gens = append(gens, i)
		}
	}
	if len(gens) == 0 {
		return nil, fmt.Errorf("no install of %s recorded for %s", c, path)
	}
	res := &Result{File: path, Exact: true}
	for k := len(gens) - 1; k >= 0; k-- {
		if err := in.undo(recs, gens[k], restoreSecrets, res); err != nil {
			return nil, err
		}
	}
	return res, nil
}

func (in *Installer) undo(recs *Records, gi int, restoreSecrets bool, res *Result) error {
	g := &recs.Installs[gi]
	var restore, keep []Rewrite
	for _, e := range g.Entries {
		if len(e.Secrets) > 0 && !restoreSecrets {
			keep = append(keep, e)
			res.Notes = append(res.Notes, fmt.Sprintf("%s stays behind Airlock: its credentials are in the keyring (%s); add --restore-secrets to put them back into %s in plaintext", e.Name, strings.Join(e.Secrets, ", "), g.File))
			continue
		}
		restore = append(restore, e)
	}
	if len(restore) == 0 {
		res.Exact = false
		return nil
	}
	backup, err := os.ReadFile(g.Backup)
	if err != nil {
		return fmt.Errorf("read backup: %w", err)
	}
	var done, gone []Rewrite
	for attempt := 1; ; attempt++ {
		cur, err := os.ReadFile(g.File)
		if err != nil {
			return fmt.Errorf("read IDE config: %w", err)
		}
		var out []byte
		exact := len(keep) == 0 && digest(cur) == g.Written
		done, gone = nil, nil
		if exact {
			out = backup
			done = restore
		} else {
			if out, done, gone, err = splice(g, cur, backup, restore, in.Airlock); err != nil {
				return err
			}
		}
		fmt.Fprint(in.out(), redactSecretsOf(Unified(g.File, g.File+" (after airlock uninstall)", cur, out), in, restore, restoreSecrets))
		if in.DryRun {
			res.Notes = append(res.Notes, "dry run: nothing written")
			return nil
		}
		if in.beforeWrite != nil {
			in.beforeWrite(g.File)
		}
		err = writeAtomic(g.File, out, cur, 0o600)
		if errors.Is(err, errChanged) && attempt < maxAttempts {
			continue
		}
		if err != nil {
			return err
		}
		if !exact {
			res.Exact = false
			if len(keep) == 0 {
				res.Notes = append(res.Notes, fmt.Sprintf("%s changed since install: put the original entries back into the current file instead of restoring the backup", g.File))
			}
		}
		break
	}
	res.Rewritten = append(res.Rewritten, done...)
	for _, e := range gone {
		res.Notes = append(res.Notes, fmt.Sprintf("%s: %s no longer runs `airlock run %s` (changed or removed since install); left as is", g.File, e.Name, e.Server))
	}

	// The record now holds only what stays; then servers.json and the keyring lose
	// what no other recorded entry uses.
	g.Entries = keep
	backupPath := g.Backup
	if len(keep) == 0 {
		recs.Installs = append(recs.Installs[:gi], recs.Installs[gi+1:]...)
	}
	var drop []string
	for _, e := range append(done, gone...) {
		if e.AddedServer && !recs.usedBy(e.Server, nil) {
			drop = append(drop, e.Server)
		}
	}
	if len(drop) > 0 {
		if _, err := editServers(in.Home, func(obj *hujson.Object) error {
			for _, n := range drop {
				deleteMember(obj, n)
			}
			return nil
		}); err != nil {
			return err
		}
	}
	if restoreSecrets {
		for _, e := range done {
			if recs.usedBy(e.Server, nil) {
				continue
			}
			for _, n := range e.Secrets {
				if err := in.Keyring.Delete(n); err != nil {
					res.Notes = append(res.Notes, fmt.Sprintf("could not delete %s from the keyring: %v", n, err))
				}
			}
		}
	}
	if err := recs.save(in.Home); err != nil {
		return err
	}
	if len(keep) == 0 {
		os.Remove(backupPath)
	}
	return nil
}

// splice puts the original value of each entry of restore, taken from backup, into cur
// where the entry still runs Airlock. It returns the new content, the entries put back
// and those no longer found as install left them.
func splice(g *Install, cur, backup []byte, restore []Rewrite, airlock string) (out []byte, done, gone []Rewrite, err error) {
	if _, err := Parse(g.File, g.Format, cur); err != nil {
		return nil, nil, nil, err
	}
	orig, err := hujson.Parse(backup)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("%s: %w", g.Backup, err)
	}
	root, err := hujson.Parse(cur)
	if err != nil {
		return nil, nil, nil, err
	}
	for _, e := range restore {
		target, from := root.Find(e.Pointer), orig.Find(e.Pointer)
		if target == nil || from == nil {
			gone = append(gone, e)
			continue
		}
		var now Entry
		now.classify(*target)
		now.recognise(airlock)
		if !now.Protected || now.Via != "airlock run "+e.Server {
			gone = append(gone, e)
			continue
		}
		target.Value = from.Value
		done = append(done, e)
	}
	return root.Pack(), done, gone, nil
}

// redactSecretsOf hides, in a diff shown by uninstall, the credentials that go back into
// the file.
func redactSecretsOf(s string, in *Installer, entries []Rewrite, restoreSecrets bool) string {
	if !restoreSecrets {
		return s
	}
	var vals []string
	for _, e := range entries {
		for _, n := range e.Secrets {
			if v, err := in.Keyring.Get(n); err == nil {
				vals = append(vals, v)
			}
		}
	}
	return redactAll(s, vals)
}
