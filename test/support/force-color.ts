// Import this FIRST in a test file that asserts on colours: chalk (inside Ink) decides its
// colour level when it is loaded, from the environment, and a test worker is not a TTY.
process.env.FORCE_COLOR = '1';
