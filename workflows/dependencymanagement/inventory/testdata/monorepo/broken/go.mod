module broken

require (
  nope
