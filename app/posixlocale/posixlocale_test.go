package posixlocale

import (
	"os"
	"testing"
)

func TestFix(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		key  string
		want string
	}{
		{map[string]string{"LANG": "C.UTF-8"}, "LANG", "en_US.UTF-8"},
		{map[string]string{"LANG": "de_CH.UTF-8"}, "LANG", "de_CH.UTF-8"},
		{map[string]string{"LANG": "C"}, "LANG", "C"},
		{map[string]string{"LC_ALL": "POSIX.utf8", "LANG": "fr_CH.UTF-8"}, "LC_ALL", "en_US.UTF-8"},
		// LC_ALL wins over LANG, so a C.UTF-8 LANG under it stays as it is.
		{map[string]string{"LC_ALL": "it_CH.UTF-8", "LANG": "C.UTF-8"}, "LANG", "C.UTF-8"},
	} {
		for _, k := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
			t.Setenv(k, tc.env[k])
		}
		fix()
		if got := os.Getenv(tc.key); got != tc.want {
			t.Errorf("%v: %s = %q, want %q", tc.env, tc.key, got, tc.want)
		}
	}
}
