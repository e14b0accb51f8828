package report

import (
	"fmt"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/billing"
)

// texts is every text of an invoice insert in one language. A struct rather
// than a map so that a missing text is a compile error or an empty field,
// which a test catches, never a key printed on a tenant's document.
type texts struct {
	Title        string // document title
	Community    string // what a ZEV is called in the language
	InvoiceNo    string
	Draft        string
	Date         string
	Period       string
	Property     string
	Unit         string
	TenantRef    string
	VATNo        string
	Owner        string // recipient label on owner invoices
	Readings     string
	Meter        string
	StartReading string
	EndReading   string
	Consumption  string
	Replaced     string // "meter exchanged on %s"
	NoReadings   string
	Energy       string
	Solar        string
	GridHT       string
	GridNT       string
	Grid         string
	Total        string
	SolarShare   string // "%s\u00a0%% solar"
	Charges      string
	Item         string
	Quantity     string
	Rate         string
	AmountCHF    string
	Days         string
	PerMonth     string
	Units        string // "%d units/meters ×"
	Colon        string // ":" with the language's spacing

	LineSolar      string
	LineGridHT     string
	LineGridNT     string
	LineGrid       string
	LineGridFees   string
	LineBaseFee    string
	LineMetering   string
	LineCommon     string
	LineHeatPump   string
	LineEV         string
	LineDifference string
	LineSubtotal   string
	LineVAT        string // "VAT %s\u00a0%% on CHF\u00a0%s"
	LineRounding   string
	LineTotal      string
	LineAdvance    string
	LineBalanceDue string
	LineCredit     string
	TariffFrom     string // "tariff from %s"
	AtUtilityCost  string
	DynamicPrice   string
	VATRate        string // "VAT %s\u00a0%%": the rate of a line where an invoice has two
	// ShareSolar... name the energy of a shared meter's line, briefly.
	ShareSolar, ShareGridHT, ShareGridNT, ShareGrid string

	KeyLabel string
	KeyUnits string
	KeyArea  string
	KeyQuota string
	KeyCustm string
	KeyOwner string

	NoVAT string

	ChartMonth string
	ChartWeek  string
	ChartDay   string

	Building      string
	BuildingText  string // production, self-consumed, self-sufficiency, your solar share
	HowTitle      string
	HowProp       string
	HowEqual      string
	HowBalance    string
	EstTitle      string
	EstNone       string
	EstSome       string // "%s kWh of %s kWh (%s\u00a0%%)"
	Art16Title    string
	Art16Known    string // solar price, standard product, 80 % cap
	Art16Unknown  string // solar price only
	Art16Cost     string // solar price above 80 %: the effective-cost method; solar price, standard product
	PayWithin     string
	PayQR         string
	CreditText    string
	NothingToPay  string
	Questions     string
	MonthNames    [12]string
	WeekAbbr      string
	QR            qrTexts
	ShareOf       string // "your share %s of %s (%s %%)"
	CommonMeter   string
	HeatPumpMeter string
	ResidentTitle string
	ResidentText  string
	ContactPhone  string
	ContactEmail  string
	EstimatedNote string
}

// qrTexts are the payment part's headings as the QR-bill style guide words
// them.
type qrTexts struct {
	Receipt, PaymentPart, Account, Reference, AddInfo, PayableBy, PayableByBlank,
	Currency, Amount, Acceptance, Separate string
}

var languages = map[string]*texts{"de": &de, "fr": &fr, "it": &it, "en": &en}

// textsFor returns the texts of lang, German where lang is not supported.
func textsFor(lang string) *texts {
	if t, ok := languages[lang]; ok {
		return t
	}
	return &de
}

func (t *texts) key(k core.Key) string {
	switch k {
	case core.KeyUnits:
		return t.KeyUnits
	case core.KeyArea:
		return t.KeyArea
	case core.KeyQuota:
		return t.KeyQuota
	case core.KeyCustom:
		return t.KeyCustm
	case core.KeyOwner:
		return t.KeyOwner
	}
	return string(k)
}

// share states a shared meter's key and the unit's part under it.
func (t *texts) share(sh Share) string {
	what := t.CommonMeter
	if sh.Role == core.RoleHeatPump {
		what = t.HeatPumpMeter
	}
	s := what + " (" + sh.Meter + ")" + t.Colon + " " + t.key(sh.Key)
	if sh.Key != core.KeyOwner && sh.Weight > 0 && sh.Total > 0 {
		var w, tot string
		switch sh.Key {
		case core.KeyArea:
			w, tot = fixed(sh.Weight, 2)+"\u00a0m²", fixed(sh.Total, 2)+"\u00a0m²"
		default:
			w, tot = groupDigits(fmt.Sprint(sh.Weight)), groupDigits(fmt.Sprint(sh.Total))
		}
		s += ", " + fmt.Sprintf(t.ShareOf, w, tot, Percent(sh.Weight, sh.Total))
	}
	if !sh.From.IsZero() {
		s += " (" + Date(sh.From) + "–" + Date(sh.To) + ")"
	}
	return s + "."
}

func (t *texts) how(a core.Allocation) string {
	switch a {
	case core.AllocEqual:
		return t.HowEqual
	case core.AllocBalance:
		return t.HowBalance
	}
	return t.HowProp
}

func (t *texts) kind(k billing.LineKind) string {
	switch k {
	case billing.KindSolar:
		return t.LineSolar
	case billing.KindGridHT:
		return t.LineGridHT
	case billing.KindGridNT:
		return t.LineGridNT
	case billing.KindGridFees:
		return t.LineGridFees
	case billing.KindBaseFee:
		return t.LineBaseFee
	case billing.KindMetering:
		return t.LineMetering
	case billing.KindCommon:
		return t.LineCommon
	case billing.KindHeatPump:
		return t.LineHeatPump
	case billing.KindEV:
		return t.LineEV
	case billing.KindDifferent:
		return t.LineDifference
	case billing.KindSubtotal:
		return t.LineSubtotal
	case billing.KindRounding:
		return t.LineRounding
	case billing.KindTotal:
		return t.LineTotal
	case billing.KindAdvance:
		return t.LineAdvance
	}
	return string(k)
}

var de = texts{
	CommonMeter:   "Allgemeinstrom",
	HeatPumpMeter: "Wärmepumpe",
	ShareOf:       "Ihr Anteil %s von %s (%s\u00a0%%)",
	ResidentTitle: "Ihr Verbrauch online",
	ResidentText:  "Ihren Verbrauch und Ihren Solaranteil sehen Sie jederzeit auf Ihrer persönlichen Seite. Der Link gilt nur für Sie; geben Sie ihn nicht weiter.",
	Colon:         ":",
	Title:         "Stromabrechnung",
	Community:     "Zusammenschluss zum Eigenverbrauch (ZEV)",
	InvoiceNo:     "Rechnung Nr.",
	Draft:         "Entwurf",
	Date:          "Datum",
	Period:        "Abrechnungsperiode",
	Property:      "Liegenschaft",
	Unit:          "Mietobjekt",
	TenantRef:     "Mieter-Nr.",
	VATNo:         "MWST-Nr.",
	Owner:         "Eigentümer",
	Readings:      "Zählerstände",
	Meter:         "Zähler",
	StartReading:  "Anfangsstand kWh",
	EndReading:    "Endstand kWh",
	Consumption:   "Verbrauch kWh",
	Replaced:      "Zählerwechsel am %s",
	NoReadings:    "Für diese Periode liegen keine Zählerstände vor; der Verbrauch beruht auf den Viertelstundenwerten.",
	Energy:        "Ihr Stromverbrauch",
	Solar:         "Solarstrom aus der eigenen Anlage",
	GridHT:        "Netzstrom Hochtarif (HT)",
	GridNT:        "Netzstrom Niedertarif (NT)",
	Grid:          "Netzstrom",
	Total:         "Total",
	SolarShare:    "Solaranteil %s\u00a0%%",
	Charges:       "Abrechnung",
	Item:          "Position",
	Quantity:      "Menge",
	Rate:          "Ansatz CHF",
	AmountCHF:     "Betrag CHF",
	Days:          "Tage",
	PerMonth:      "/Mt.",
	Units:         "%d ×",

	LineSolar:      "Solarstrom",
	LineGridHT:     "Netzstrom Hochtarif (HT)",
	LineGridNT:     "Netzstrom Niedertarif (NT)",
	LineGrid:       "Netzstrom",
	LineGridFees:   "Netzkosten des Verteilnetzbetreibers",
	LineBaseFee:    "Grundgebühr",
	LineMetering:   "Messdienstleistung",
	LineCommon:     "Anteil Allgemeinstrom",
	LineHeatPump:   "Anteil Wärmepumpe",
	LineEV:         "Elektromobilität (Ladestation)",
	LineDifference: "Anteil Messdifferenz",
	LineSubtotal:   "Zwischentotal",
	LineVAT:        "MWST %s\u00a0%% auf CHF\u00a0%s",
	LineRounding:   "Rundungsdifferenz",
	LineTotal:      "Total Stromkosten",
	LineAdvance:    "Abzüglich Akontozahlungen",
	LineBalanceDue: "Saldo zu unseren Gunsten",
	LineCredit:     "Saldo zu Ihren Gunsten",
	TariffFrom:     "Tarif ab %s",
	AtUtilityCost:  "zu Selbstkosten",
	DynamicPrice:   "dynamischer Preis",
	VATRate:        "MWST %s\u00a0%%",
	ShareSolar:     "Solarstrom",
	ShareGridHT:    "Netzstrom HT",
	ShareGridNT:    "Netzstrom NT",
	ShareGrid:      "Netzstrom",

	KeyLabel: "Verteilschlüssel",
	KeyUnits: "nach Anzahl Einheiten",
	KeyArea:  "nach Wohnfläche",
	KeyQuota: "nach Wertquote",
	KeyCustm: "nach individuellem Schlüssel",
	KeyOwner: "zulasten Eigentümer",

	NoVAT: "Ohne MWST: Der Betreiber des ZEV ist nicht mehrwertsteuerpflichtig.",

	ChartMonth: "Verbrauch pro Monat (kWh)",
	ChartWeek:  "Verbrauch pro Woche (kWh)",
	ChartDay:   "Verbrauch pro Tag (kWh)",

	Building:      "Die Solaranlage der Liegenschaft",
	BuildingText:  "In der Abrechnungsperiode hat die Solaranlage %s kWh produziert; davon wurden %s kWh im Haus verbraucht. Die Liegenschaft hat %s\u00a0%% ihres Strombedarfs selbst gedeckt (Eigenversorgungsgrad), Ihr persönlicher Solaranteil beträgt %s\u00a0%%.",
	HowTitle:      "So wird Ihr Solaranteil berechnet",
	HowProp:       "Für jede Viertelstunde wird die Solarproduktion mit dem Verbrauch aller Bezüger verglichen. Reicht sie nicht für alle, erhält jeder Bezüger Solarstrom im Verhältnis seines Verbrauchs in dieser Viertelstunde; den Rest bezieht er aus dem Netz. Überschüsse werden ins Netz eingespeist.",
	HowEqual:      "Für jede Viertelstunde wird der Solarstrom zu gleichen Teilen auf die Bezüger verteilt, jeweils höchstens bis zu ihrem Verbrauch; was ein Bezüger nicht braucht, geht an die übrigen. Den Rest beziehen die Bezüger aus dem Netz.",
	HowBalance:    "Für jede Viertelstunde gilt als Solarstrom der Verbrauch aller Bezüger abzüglich des vom Netzbetreiber gemessenen Netzbezugs; er wird im Verhältnis des Verbrauchs verteilt. So entsprechen die verrechneten Netzanteile genau der Rechnung des Netzbetreibers.",
	EstTitle:      "Geschätzte Werte",
	EstNone:       "Alle Verbrauchswerte dieser Abrechnung sind gemessen.",
	EstSome:       "%s kWh Ihres Verbrauchs von %s kWh (%s\u00a0%%) sind geschätzt, weil Messwerte fehlten (lineare Interpolation zwischen den Zählerständen).",
	Art16Title:    "Preis des Solarstroms",
	Art16Known:    "Nach Art. 16 der Energieverordnung (EnV) darf der Solarstrom höchstens 80\u00a0%% des Preises des Standardstromprodukts kosten, das Sie sonst vom Netzbetreiber beziehen würden. Standardprodukt: CHF\u00a0%s/kWh; Höchstpreis (80\u00a0%%): CHF\u00a0%s/kWh; Ihr Solarpreis: CHF\u00a0%s/kWh.",
	Art16Unknown:  "Ihr Solarpreis von CHF\u00a0%s/kWh ist nach Art. 16 der Energieverordnung (EnV) festgelegt: höchstens 80\u00a0%% des Standardstromprodukts des Netzbetreibers oder die effektiven Kosten der Anlage.",
	Art16Cost:     "Ihr Solarpreis von CHF\u00a0%s/kWh beruht nach Art. 16 der Energieverordnung (EnV) auf den effektiven Kosten der Anlage (Kapital-, Betriebs-, Mess- und Verwaltungskosten abzüglich der Einspeisevergütung) zuzüglich höchstens der Hälfte der Einsparung gegenüber dem Standardstromprodukt; er liegt nicht über dessen Preis von CHF\u00a0%s/kWh.",
	PayWithin:     "Zahlbar innert 30 Tagen.",
	PayQR:         "Bitte verwenden Sie für die Zahlung den QR-Zahlteil.",
	CreditText:    "Das Guthaben wird Ihnen zurückerstattet oder mit der nächsten Abrechnung verrechnet.",
	NothingToPay:  "Es ist keine Zahlung nötig.",
	Questions:     "Fragen zu dieser Abrechnung beantworten wir gerne:",
	MonthNames:    [12]string{"Jan", "Feb", "Mär", "Apr", "Mai", "Jun", "Jul", "Aug", "Sep", "Okt", "Nov", "Dez"},
	WeekAbbr:      "KW",
	ContactPhone:  "Tel.",
	ContactEmail:  "E-Mail",
	EstimatedNote: "davon geschätzt",
	QR: qrTexts{
		Receipt: "Empfangsschein", PaymentPart: "Zahlteil", Account: "Konto / Zahlbar an", Reference: "Referenz",
		AddInfo: "Zusätzliche Informationen", PayableBy: "Zahlbar durch", PayableByBlank: "Zahlbar durch (Name/Adresse)",
		Currency: "Währung", Amount: "Betrag", Acceptance: "Annahmestelle", Separate: "Vor der Einzahlung abzutrennen",
	},
}

var fr = texts{
	CommonMeter:   "Électricité des parties communes",
	HeatPumpMeter: "Pompe à chaleur",
	ShareOf:       "votre part %s sur %s (%s\u00a0%%)",
	ResidentTitle: "Votre consommation en ligne",
	ResidentText:  "Votre consommation et votre part solaire sont consultables à tout moment sur votre page personnelle. Ce lien vous est réservé ; ne le transmettez pas.",
	Colon:         "\u202f:",
	Title:         "Décompte d'électricité",
	Community:     "Regroupement dans le cadre de la consommation propre (RCP)",
	InvoiceNo:     "Facture n°",
	Draft:         "Projet",
	Date:          "Date",
	Period:        "Période de décompte",
	Property:      "Immeuble",
	Unit:          "Objet loué",
	TenantRef:     "N° de locataire",
	VATNo:         "N° TVA",
	Owner:         "Propriétaire",
	Readings:      "Relevés des compteurs",
	Meter:         "Compteur",
	StartReading:  "Index initial kWh",
	EndReading:    "Index final kWh",
	Consumption:   "Consommation kWh",
	Replaced:      "changement de compteur le %s",
	NoReadings:    "Aucun relevé de compteur n'est disponible pour cette période ; la consommation repose sur les valeurs au quart d'heure.",
	Energy:        "Votre consommation d'électricité",
	Solar:         "Électricité solaire de l'installation de l'immeuble",
	GridHT:        "Électricité du réseau, haut tarif (HT)",
	GridNT:        "Électricité du réseau, bas tarif (BT)",
	Grid:          "Électricité du réseau",
	Total:         "Total",
	SolarShare:    "Part solaire %s\u00a0%%",
	Charges:       "Décompte",
	Item:          "Désignation",
	Quantity:      "Quantité",
	Rate:          "Prix CHF",
	AmountCHF:     "Montant CHF",
	Days:          "jours",
	PerMonth:      "/mois",
	Units:         "%d ×",

	LineSolar:      "Électricité solaire",
	LineGridHT:     "Électricité du réseau, haut tarif (HT)",
	LineGridNT:     "Électricité du réseau, bas tarif (BT)",
	LineGrid:       "Électricité du réseau",
	LineGridFees:   "Coûts du gestionnaire de réseau",
	LineBaseFee:    "Taxe de base",
	LineMetering:   "Frais de comptage",
	LineCommon:     "Part de l'électricité des parties communes",
	LineHeatPump:   "Part de la pompe à chaleur",
	LineEV:         "Recharge de véhicules électriques",
	LineDifference: "Part de la différence de mesure",
	LineSubtotal:   "Sous-total",
	LineVAT:        "TVA %s\u00a0%% sur CHF\u00a0%s",
	LineRounding:   "Arrondi",
	LineTotal:      "Total des frais d'électricité",
	LineAdvance:    "Moins acomptes versés",
	LineBalanceDue: "Solde en notre faveur",
	LineCredit:     "Solde en votre faveur",
	TariffFrom:     "tarif dès le %s",
	AtUtilityCost:  "au prix coûtant",
	DynamicPrice:   "prix dynamique",
	VATRate:        "TVA %s\u00a0%%",
	ShareSolar:     "électricité solaire",
	ShareGridHT:    "réseau HT",
	ShareGridNT:    "réseau BT",
	ShareGrid:      "réseau",

	KeyLabel: "Clé de répartition",
	KeyUnits: "par nombre d'unités",
	KeyArea:  "selon la surface",
	KeyQuota: "selon les quotes-parts",
	KeyCustm: "selon une clé individuelle",
	KeyOwner: "à la charge du propriétaire",

	NoVAT: "Sans TVA : l'exploitant du RCP n'est pas assujetti à la TVA.",

	ChartMonth: "Consommation par mois (kWh)",
	ChartWeek:  "Consommation par semaine (kWh)",
	ChartDay:   "Consommation par jour (kWh)",

	Building:      "L'installation solaire de l'immeuble",
	BuildingText:  "Durant la période de décompte, l'installation solaire a produit %s kWh, dont %s kWh ont été consommés dans l'immeuble. L'immeuble a couvert lui-même %s\u00a0%% de ses besoins en électricité (taux d'autoapprovisionnement) ; votre part solaire personnelle est de %s\u00a0%%.",
	HowTitle:      "Comment votre part solaire est calculée",
	HowProp:       "Pour chaque quart d'heure, la production solaire est comparée à la consommation de l'ensemble des consommateurs. Si elle ne suffit pas pour tous, chacun reçoit de l'électricité solaire en proportion de sa consommation durant ce quart d'heure et tire le reste du réseau. Les excédents sont injectés dans le réseau.",
	HowEqual:      "Pour chaque quart d'heure, l'électricité solaire est répartie à parts égales entre les consommateurs, au plus à hauteur de leur consommation ; ce dont l'un n'a pas besoin revient aux autres. Le reste provient du réseau.",
	HowBalance:    "Pour chaque quart d'heure, l'électricité solaire correspond à la consommation de l'ensemble des consommateurs moins le soutirage mesuré par le gestionnaire de réseau ; elle est répartie en proportion de la consommation. Les parts de réseau facturées correspondent ainsi exactement à la facture du gestionnaire de réseau.",
	EstTitle:      "Valeurs estimées",
	EstNone:       "Toutes les valeurs de consommation de ce décompte sont mesurées.",
	EstSome:       "%s kWh de votre consommation de %s kWh (%s\u00a0%%) sont estimés, faute de valeurs mesurées (interpolation linéaire entre les index).",
	Art16Title:    "Prix de l'électricité solaire",
	Art16Known:    "Selon l'art. 16 de l'ordonnance sur l'énergie (OEne), l'électricité solaire ne peut coûter plus de 80\u00a0%% du prix du produit électrique standard que vous achèteriez sinon au gestionnaire de réseau. Produit standard : CHF\u00a0%s/kWh ; prix maximal (80\u00a0%%) : CHF\u00a0%s/kWh ; votre prix solaire : CHF\u00a0%s/kWh.",
	Art16Unknown:  "Votre prix solaire de CHF\u00a0%s/kWh est fixé selon l'art. 16 de l'ordonnance sur l'énergie (OEne) : au plus 80\u00a0%% du produit électrique standard du gestionnaire de réseau ou les coûts effectifs de l'installation.",
	Art16Cost:     "Votre prix solaire de CHF\u00a0%s/kWh repose, selon l'art. 16 de l'ordonnance sur l'énergie (OEne), sur les coûts effectifs de l'installation (coûts de capital, d'exploitation, de mesure et d'administration, déduction faite de la rétribution de l'injection), majorés au plus de la moitié de l'économie réalisée par rapport au produit électrique standard ; il ne dépasse pas le prix de celui-ci, CHF\u00a0%s/kWh.",
	PayWithin:     "Payable dans les 30 jours.",
	PayQR:         "Veuillez utiliser la section paiement QR pour le paiement.",
	CreditText:    "Le solde vous sera remboursé ou porté en compte dans le prochain décompte.",
	NothingToPay:  "Aucun paiement n'est nécessaire.",
	Questions:     "Pour toute question concernant ce décompte :",
	MonthNames:    [12]string{"janv", "févr", "mars", "avr", "mai", "juin", "juil", "août", "sept", "oct", "nov", "déc"},
	WeekAbbr:      "sem",
	ContactPhone:  "Tél.",
	ContactEmail:  "E-mail",
	EstimatedNote: "dont estimés",
	QR: qrTexts{
		Receipt: "Récépissé", PaymentPart: "Section paiement", Account: "Compte / Payable à", Reference: "Référence",
		AddInfo: "Informations supplémentaires", PayableBy: "Payable par", PayableByBlank: "Payable par (nom/adresse)",
		Currency: "Monnaie", Amount: "Montant", Acceptance: "Point de dépôt", Separate: "A détacher avant le versement",
	},
}

var it = texts{
	CommonMeter:   "Elettricità parti comuni",
	HeatPumpMeter: "Pompa di calore",
	ShareOf:       "la Sua quota %s su %s (%s\u00a0%%)",
	ResidentTitle: "Il Suo consumo online",
	ResidentText:  "Il Suo consumo e la Sua quota solare sono consultabili in ogni momento sulla Sua pagina personale. Il link è riservato a Lei; non lo trasmetta ad altri.",
	Colon:         ":",
	Title:         "Conteggio dell'elettricità",
	Community:     "Raggruppamento ai fini del consumo proprio (RCP)",
	InvoiceNo:     "Fattura n.",
	Draft:         "Bozza",
	Date:          "Data",
	Period:        "Periodo di conteggio",
	Property:      "Stabile",
	Unit:          "Ente locato",
	TenantRef:     "N. inquilino",
	VATNo:         "N. IVA",
	Owner:         "Proprietario",
	Readings:      "Letture dei contatori",
	Meter:         "Contatore",
	StartReading:  "Lettura iniziale kWh",
	EndReading:    "Lettura finale kWh",
	Consumption:   "Consumo kWh",
	Replaced:      "sostituzione del contatore il %s",
	NoReadings:    "Per questo periodo non sono disponibili letture dei contatori; il consumo si basa sui valori quartorari.",
	Energy:        "Il Suo consumo di elettricità",
	Solar:         "Energia solare dell'impianto dello stabile",
	GridHT:        "Energia di rete, alta tariffa (AT)",
	GridNT:        "Energia di rete, bassa tariffa (BT)",
	Grid:          "Energia di rete",
	Total:         "Totale",
	SolarShare:    "Quota solare %s\u00a0%%",
	Charges:       "Conteggio",
	Item:          "Voce",
	Quantity:      "Quantità",
	Rate:          "Prezzo CHF",
	AmountCHF:     "Importo CHF",
	Days:          "giorni",
	PerMonth:      "/mese",
	Units:         "%d ×",

	LineSolar:      "Energia solare",
	LineGridHT:     "Energia di rete, alta tariffa (AT)",
	LineGridNT:     "Energia di rete, bassa tariffa (BT)",
	LineGrid:       "Energia di rete",
	LineGridFees:   "Costi del gestore di rete",
	LineBaseFee:    "Tassa di base",
	LineMetering:   "Costi di misurazione",
	LineCommon:     "Quota elettricità parti comuni",
	LineHeatPump:   "Quota pompa di calore",
	LineEV:         "Ricarica di veicoli elettrici",
	LineDifference: "Quota della differenza di misura",
	LineSubtotal:   "Subtotale",
	LineVAT:        "IVA %s\u00a0%% su CHF\u00a0%s",
	LineRounding:   "Arrotondamento",
	LineTotal:      "Totale costi dell'elettricità",
	LineAdvance:    "Dedotti gli acconti versati",
	LineBalanceDue: "Saldo a nostro favore",
	LineCredit:     "Saldo a Suo favore",
	TariffFrom:     "tariffa dal %s",
	AtUtilityCost:  "a prezzo di costo",
	DynamicPrice:   "prezzo dinamico",
	VATRate:        "IVA %s\u00a0%%",
	ShareSolar:     "energia solare",
	ShareGridHT:    "energia di rete AT",
	ShareGridNT:    "energia di rete BT",
	ShareGrid:      "energia di rete",

	KeyLabel: "Chiave di riparto",
	KeyUnits: "secondo il numero di unità",
	KeyArea:  "secondo la superficie",
	KeyQuota: "secondo le quote di valore",
	KeyCustm: "secondo una chiave individuale",
	KeyOwner: "a carico del proprietario",

	NoVAT: "Senza IVA: il gestore del RCP non è assoggettato all'IVA.",

	ChartMonth: "Consumo mensile (kWh)",
	ChartWeek:  "Consumo settimanale (kWh)",
	ChartDay:   "Consumo giornaliero (kWh)",

	Building:      "L'impianto solare dello stabile",
	BuildingText:  "Nel periodo di conteggio l'impianto solare ha prodotto %s kWh, di cui %s kWh consumati nello stabile. Lo stabile ha coperto da sé il %s\u00a0%% del proprio fabbisogno di elettricità (grado di autoapprovvigionamento); la Sua quota solare personale è del %s\u00a0%%.",
	HowTitle:      "Come viene calcolata la Sua quota solare",
	HowProp:       "Per ogni quarto d'ora la produzione solare viene confrontata con il consumo di tutti i consumatori. Se non basta per tutti, ciascuno riceve energia solare in proporzione al proprio consumo in quel quarto d'ora e preleva il resto dalla rete. Le eccedenze vengono immesse nella rete.",
	HowEqual:      "Per ogni quarto d'ora l'energia solare viene ripartita in parti uguali tra i consumatori, al massimo fino al loro consumo; ciò che a uno non serve va agli altri. Il resto proviene dalla rete.",
	HowBalance:    "Per ogni quarto d'ora si considera energia solare il consumo di tutti i consumatori meno il prelievo dalla rete misurato dal gestore di rete; essa viene ripartita in proporzione al consumo. Le quote di rete fatturate corrispondono così esattamente alla fattura del gestore di rete.",
	EstTitle:      "Valori stimati",
	EstNone:       "Tutti i valori di consumo di questo conteggio sono misurati.",
	EstSome:       "%s kWh del Suo consumo di %s kWh (%s\u00a0%%) sono stimati perché mancavano valori misurati (interpolazione lineare tra le letture).",
	Art16Title:    "Prezzo dell'energia solare",
	Art16Known:    "Secondo l'art. 16 dell'ordinanza sull'energia (OEn) l'energia solare non può costare più dell'80\u00a0%% del prezzo del prodotto elettrico standard che altrimenti acquisterebbe dal gestore di rete. Prodotto standard: CHF\u00a0%s/kWh; prezzo massimo (80\u00a0%%): CHF\u00a0%s/kWh; il Suo prezzo solare: CHF\u00a0%s/kWh.",
	Art16Unknown:  "Il Suo prezzo solare di CHF\u00a0%s/kWh è stabilito secondo l'art. 16 dell'ordinanza sull'energia (OEn): al massimo l'80\u00a0%% del prodotto elettrico standard del gestore di rete o i costi effettivi dell'impianto.",
	Art16Cost:     "Il Suo prezzo solare di CHF\u00a0%s/kWh si basa, secondo l'art. 16 dell'ordinanza sull'energia (OEn), sui costi effettivi dell'impianto (costi di capitale, d'esercizio, di misurazione e amministrativi, dedotta la rimunerazione per l'immissione), maggiorati al massimo della metà del risparmio rispetto al prodotto elettrico standard; non supera il prezzo di quest'ultimo, CHF\u00a0%s/kWh.",
	PayWithin:     "Pagabile entro 30 giorni.",
	PayQR:         "Per il pagamento La preghiamo di utilizzare la sezione pagamento QR.",
	CreditText:    "Il saldo Le sarà rimborsato o compensato con il prossimo conteggio.",
	NothingToPay:  "Non è necessario alcun pagamento.",
	Questions:     "Per domande su questo conteggio siamo volentieri a disposizione:",
	MonthNames:    [12]string{"gen", "feb", "mar", "apr", "mag", "giu", "lug", "ago", "set", "ott", "nov", "dic"},
	WeekAbbr:      "sett",
	ContactPhone:  "Tel.",
	ContactEmail:  "E-mail",
	EstimatedNote: "di cui stimati",
	QR: qrTexts{
		Receipt: "Ricevuta", PaymentPart: "Sezione pagamento", Account: "Conto / Pagabile a", Reference: "Riferimento",
		AddInfo: "Informazioni supplementari", PayableBy: "Pagabile da", PayableByBlank: "Pagabile da (nome/indirizzo)",
		Currency: "Valuta", Amount: "Importo", Acceptance: "Punto di accettazione", Separate: "Da staccare prima del versamento",
	},
}

var en = texts{
	CommonMeter:   "Common areas electricity",
	HeatPumpMeter: "Heat pump",
	ShareOf:       "your share %s of %s (%s\u00a0%%)",
	ResidentTitle: "Your consumption online",
	ResidentText:  "You can follow your consumption and your solar share at any time on your personal page. The link is yours alone; please do not pass it on.",
	Colon:         ":",
	Title:         "Electricity statement",
	Community:     "Self-consumption community (ZEV)",
	InvoiceNo:     "Invoice no.",
	Draft:         "Draft",
	Date:          "Date",
	Period:        "Billing period",
	Property:      "Property",
	Unit:          "Rented unit",
	TenantRef:     "Tenant no.",
	VATNo:         "VAT no.",
	Owner:         "Owner",
	Readings:      "Meter readings",
	Meter:         "Meter",
	StartReading:  "Start reading kWh",
	EndReading:    "End reading kWh",
	Consumption:   "Consumption kWh",
	Replaced:      "meter exchanged on %s",
	NoReadings:    "No meter readings are available for this period; consumption is based on the 15-minute values.",
	Energy:        "Your electricity consumption",
	Solar:         "Solar power from the building's own plant",
	GridHT:        "Grid electricity, peak rate (HT)",
	GridNT:        "Grid electricity, off-peak rate (NT)",
	Grid:          "Grid electricity",
	Total:         "Total",
	SolarShare:    "Solar share %s\u00a0%%",
	Charges:       "Charges",
	Item:          "Item",
	Quantity:      "Quantity",
	Rate:          "Rate CHF",
	AmountCHF:     "Amount CHF",
	Days:          "days",
	PerMonth:      "/month",
	Units:         "%d ×",

	LineSolar:      "Solar power",
	LineGridHT:     "Grid electricity, peak rate (HT)",
	LineGridNT:     "Grid electricity, off-peak rate (NT)",
	LineGrid:       "Grid electricity",
	LineGridFees:   "Grid operator's charges",
	LineBaseFee:    "Base fee",
	LineMetering:   "Metering",
	LineCommon:     "Share of common areas electricity",
	LineHeatPump:   "Share of the heat pump",
	LineEV:         "Electric vehicle charging",
	LineDifference: "Share of the metering difference",
	LineSubtotal:   "Subtotal",
	LineVAT:        "VAT %s\u00a0%% on CHF\u00a0%s",
	LineRounding:   "Rounding",
	LineTotal:      "Total electricity costs",
	LineAdvance:    "Less advance payments",
	LineBalanceDue: "Balance due",
	LineCredit:     "Balance in your favour",
	TariffFrom:     "tariff from %s",
	AtUtilityCost:  "at cost",
	DynamicPrice:   "dynamic price",
	VATRate:        "VAT %s\u00a0%%",
	ShareSolar:     "solar power",
	ShareGridHT:    "grid, peak (HT)",
	ShareGridNT:    "grid, off-peak (NT)",
	ShareGrid:      "grid",

	KeyLabel: "Allocation key",
	KeyUnits: "by number of units",
	KeyArea:  "by floor area",
	KeyQuota: "by value quota",
	KeyCustm: "by custom key",
	KeyOwner: "charged to the owner",

	NoVAT: "Without VAT: the community's operator is not registered for VAT.",

	ChartMonth: "Consumption by month (kWh)",
	ChartWeek:  "Consumption by week (kWh)",
	ChartDay:   "Consumption by day (kWh)",

	Building:      "The building's solar plant",
	BuildingText:  "During the billing period the solar plant produced %s kWh, of which %s kWh were used in the building. The building covered %s\u00a0%% of its own electricity needs (self-sufficiency); your personal solar share is %s\u00a0%%.",
	HowTitle:      "How your solar share is computed",
	HowProp:       "For every quarter of an hour, solar production is compared with the consumption of all consumers. Where it is not enough for everyone, each consumer receives solar power in proportion to their consumption in that quarter hour and draws the rest from the grid. Surplus is fed into the grid.",
	HowEqual:      "For every quarter of an hour, solar power is shared equally among the consumers, each up to their own consumption; what one does not need goes to the others. The rest comes from the grid.",
	HowBalance:    "For every quarter of an hour, solar power is the consumption of all consumers less the grid supply measured by the grid operator; it is shared in proportion to consumption. The grid shares billed therefore match the grid operator's invoice exactly.",
	EstTitle:      "Estimated values",
	EstNone:       "All consumption values on this statement are measured.",
	EstSome:       "%s kWh of your consumption of %s kWh (%s\u00a0%%) are estimated because measurements were missing (linear interpolation between register readings).",
	Art16Title:    "Price of solar power",
	Art16Known:    "Under Art. 16 of the Energy Ordinance (EnV), solar power may cost at most 80\u00a0%% of the price of the standard electricity product you would otherwise buy from the grid operator. Standard product: CHF\u00a0%s/kWh; maximum price (80\u00a0%%): CHF\u00a0%s/kWh; your solar price: CHF\u00a0%s/kWh.",
	Art16Unknown:  "Your solar price of CHF\u00a0%s/kWh is set under Art. 16 of the Energy Ordinance (EnV): at most 80\u00a0%% of the grid operator's standard electricity product or the plant's effective costs.",
	Art16Cost:     "Under Art. 16 of the Energy Ordinance (EnV), your solar price of CHF\u00a0%s/kWh is based on the plant's effective costs (capital, operation, metering and administration, less feed-in revenue) plus at most half of the saving against the standard electricity product; it does not exceed that product's price of CHF\u00a0%s/kWh.",
	PayWithin:     "Payable within 30 days.",
	PayQR:         "Please pay using the QR payment part.",
	CreditText:    "The balance will be refunded to you or credited on the next statement.",
	NothingToPay:  "No payment is needed.",
	Questions:     "We are glad to answer questions about this statement:",
	MonthNames:    [12]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"},
	WeekAbbr:      "wk",
	ContactPhone:  "Phone",
	ContactEmail:  "Email",
	EstimatedNote: "of which estimated",
	QR: qrTexts{
		Receipt: "Receipt", PaymentPart: "Payment part", Account: "Account / Payable to", Reference: "Reference",
		AddInfo: "Additional information", PayableBy: "Payable by", PayableByBlank: "Payable by (name/address)",
		Currency: "Currency", Amount: "Amount", Acceptance: "Acceptance point", Separate: "Separate before paying in",
	},
}
