package cli

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/ingest/importer"
)

// The importer's Read…File functions open a path as given; a command run for
// another process (Env.Dir) opens it through Env.Open instead and names it as
// the user gave it, so that its output is the same whoever runs it.

func isXLSX(path string) bool { return strings.EqualFold(filepath.Ext(path), ".xlsx") }

func (e *Env) readReadings(path string, site *core.Site) (*importer.Readings, error) {
	f, err := e.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if isXLSX(path) {
		return importer.ParseReadingsXLSX(path, f, site)
	}
	return importer.ParseReadingsCSV(path, f, site)
}

func (e *Env) readEV(path string, site *core.Site, cards importer.EVCards) (*importer.EVSessions, error) {
	f, err := e.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return importer.ParseEV(path, f, isXLSX(path), site, cards)
}

func (e *Env) readSDAT(path string) (*importer.SDATDocument, error) {
	f, err := e.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return importer.ParseSDAT(path, f)
}

func (e *Env) readESL(path string) (*importer.ESLExport, error) {
	f, err := e.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return importer.ParseESL(path, f)
}

func (e *Env) readTenants(path string) (*importer.TenantList, error) {
	f, err := e.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return importer.ParseTenants(path, f, isXLSX(path))
}

// ReadFile reads the file p names (resolved by Path); an error names p as
// given.
func (e *Env) ReadFile(p string) ([]byte, error) {
	data, err := os.ReadFile(e.Path(p))
	var pe *fs.PathError
	if errors.As(err, &pe) {
		pe.Path = p
	}
	return data, err
}

// shown turns a path under Path(dir) back into one under dir as given.
func (e *Env) shown(dir, p string) string {
	if rel, err := filepath.Rel(e.Path(dir), p); err == nil {
		return filepath.Join(dir, rel)
	}
	return p
}
