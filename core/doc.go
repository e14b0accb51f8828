// Package core holds zevdesk's domain model: sites with their units, meters,
// tenants (occupancies) and tariff versions, and the exact integer types for
// time, energy and money that every other package uses.
//
// The conventions (DESIGN.md, "Time and energy"):
//   - Every instant is UTC. A 15-minute interval is a Slot, identified by its
//     start; it covers [start, start+15m).
//   - Days, months and billing periods are civil dates (Date) in the site's
//     time zone; a local day has 92, 96 or 100 slots.
//   - Energy is an integer number of milliwatt-hours, prices are micro-CHF per
//     kWh, amounts are Rappen. Nothing is ever summed in floating point.
//
// core imports the standard library only.
package core
