package block

import (
	"encoding/hex"
	"testing"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
)

// TestGoldenBytes pins the encoding (the bytes were produced by the encoder
// before it moved here from core/store/bolt): bbolt files and PostgreSQL
// databases already hold these bytes, so a change of the encoder must be a
// new format version, never a silent change.
func TestGoldenBytes(t *testing.T) {
	var wh, mixed Day
	for i := range SlotsPerDay {
		wh.Q[i], wh.E[i] = store.Measured, core.Energy(100+(i*37)%90)*core.Wh
		mixed.Q[i] = store.Quality(i % 4)
		if mixed.Q[i] != store.Missing {
			mixed.E[i] = core.Energy(i*1001 - 5000)
		}
	}
	for name, c := range map[string]struct {
		b    *Day
		want string
	}{
		"uniform Wh": {&wh, "33c8014a4a694a694a4a694a694a4a694a694a4a694a694a694a4a694a694a4a" +
			"694a694a4a694a694a694a4a694a694a4a694a694a4a694a694a694a4a694a69" +
			"4a4a694a694a4a694a694a694a4a694a694a4a694a694a4a694a694a694a4a69" +
			"4a69"},
		"mixed": {&mixed, "00e4e4e4e4e4e4e4e4e4e4e4e4e4e4e4e4e4e4e4e4e4e4e4e4bd3ed20fd20fa4" +
			"1fd20fd20fa41fd20fd20fa41fd20fd20fa41fd20fd20fa41fd20fd20fa41fd2" +
			"0fd20fa41fd20fd20fa41fd20fd20fa41fd20fd20fa41fd20fd20fa41fd20fd2" +
			"0fa41fd20fd20fa41fd20fd20fa41fd20fd20fa41fd20fd20fa41fd20fd20fa4" +
			"1fd20fd20fa41fd20fd20fa41fd20fd20fa41fd20fd20fa41fd20fd20fa41fd2" +
			"0fd20fa41fd20fd20f"},
	} {
		if got := hex.EncodeToString(Append(nil, c.b)); got != c.want {
			t.Errorf("%s: encoded as\n%s\nwant\n%s", name, got, c.want)
		}
	}
}
