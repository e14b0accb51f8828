package ui

import (
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
)

// refreshCounter is a label that counts its refreshes.
type refreshCounter struct {
	widget.Label
	n int
}

func newRefreshCounter() *refreshCounter {
	c := &refreshCounter{}
	c.ExtendBaseWidget(c)
	return c
}

func (c *refreshCounter) Refresh() {
	c.n++
	c.Label.Refresh()
}

// TestTabSwitchRefreshesShownScreens: selecting a tab refreshes the screen
// shown, so that what changed while it was hidden (a theme) shows, and not
// the hidden ones (Fyne's AppTabs refreshes every tab's content).
func TestTabSwitchRefreshesShownScreens(t *testing.T) {
	test.NewTempApp(t)
	var screens []*refreshCounter
	tabs := container.NewAppTabs()
	for _, name := range []string{"A", "B", "C", "D", "E"} {
		c := newRefreshCounter()
		screens = append(screens, c)
		tabs.Append(container.NewTabItem(name, newTabContent(container.NewStack(c))))
	}
	w := test.NewTempWindow(t, tabs)
	w.Resize(fyne.NewSize(800, 300))
	before := make([]int, len(screens))
	for i, c := range screens {
		before[i] = c.n
	}
	tabs.SelectIndex(3)
	for i, c := range screens {
		switch d := c.n - before[i]; {
		case i == 3 && d == 0:
			t.Error("the screen shown was not refreshed")
		case i != 0 && i != 3 && d != 0:
			t.Errorf("hidden screen %d was refreshed %d times on a tab switch", i, d)
		}
	}
}
