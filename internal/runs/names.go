package runs

import (
	"math/rand/v2"
)

// Flow runs get a memorable two-word name when their creator gives none, as
// Prefect's do ("delicate-woodpecker"). This is the one generator: API,
// deployment and scheduled runs all take their names from it.
var (
	nameAdjectives = []string{"amber", "bold", "brave", "bright", "calm", "clever", "cosmic", "crimson", "curious", "daring",
		"dazzling", "eager", "electric", "emerald", "fancy", "fearless", "gentle", "giant", "glowing", "golden", "graceful",
		"happy", "hidden", "humble", "icy", "jolly", "keen", "kind", "lively", "lucky", "marvellous", "mellow", "mighty",
		"misty", "nimble", "noble", "olive", "patient", "polite", "proud", "quick", "quiet", "rapid", "rustic", "sandy",
		"scarlet", "shiny", "silent", "silver", "smart", "snowy", "spicy", "steady", "stellar", "sunny", "swift", "tidy",
		"tireless", "tough", "tranquil", "vivid", "warm", "wise", "witty", "zealous"}
	nameAnimals = []string{"albatross", "alpaca", "antelope", "badger", "beaver", "bison", "bobcat", "buffalo", "camel",
		"cheetah", "condor", "coyote", "crane", "dolphin", "eagle", "falcon", "ferret", "finch", "fox", "gazelle", "gecko",
		"heron", "hedgehog", "ibis", "jackal", "jaguar", "kestrel", "koala", "lemur", "leopard", "lynx", "magpie", "marmot",
		"meerkat", "mongoose", "moose", "narwhal", "ocelot", "orca", "osprey", "otter", "owl", "panda", "pelican", "penguin",
		"puffin", "quail", "raccoon", "raven", "salamander", "seal", "sparrow", "stork", "swan", "tapir", "tiger", "toucan",
		"turtle", "walrus", "weasel", "wolf", "wombat", "woodpecker", "yak", "zebra"}
)

// Name returns a random "adjective-animal" run name.
func Name() string {
	return nameAdjectives[rand.IntN(len(nameAdjectives))] + "-" + nameAnimals[rand.IntN(len(nameAnimals))]
}
