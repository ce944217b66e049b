// The built-in themes: byte-for-byte the same as themes/NAME.yaml (ThemeTests fails if they drift).
// Edit the file in themes/, then paste it between the delimiters of its entry here. They are compiled
// in so the console never depends on finding files at run time.

extension Theme {
    static let builtInYAML: [String: String] = [
        "default": #"""
        # Tower console theme. To make your own, copy this file to NAME.yaml in your theme directory, set
        # name: NAME, and pick it with `:theme NAME`; a file there with a built-in's name replaces it.
        #
        # Every role must be given. A role is {fg: COLOUR, bg: COLOUR, bold: true, dim: true, reverse: true,
        # underline: true}, each key optional ({} is plain). COLOUR is default, black red green yellow blue
        # magenta cyan white, bright-black … bright-white, a number 0–255 (xterm palette), or "#rrggbb" —
        # in quotes, because an unquoted # starts a YAML comment. The terminal shows the nearest colour it has.
        #
        # State is also marked by attributes (selected = reverse, bad = bold, warn = underline) so it stays
        # visible with NO_COLOR, on monochrome terminals, and to colour-blind operators.
        name: default
        description: Dark background, the default.
        roles:
          header: {fg: "#ffffff", bg: "#005f87", bold: true}
          title: {bold: true, underline: true}
          selected: {reverse: true}
          ok: {fg: green}
          warn: {fg: yellow, underline: true}
          bad: {fg: bright-red, bold: true}
          dim: {dim: true}
          dialog: {fg: bright-white, bg: "#262626"}
          dialog-title: {fg: bright-white, bg: "#262626", bold: true}
          field: {fg: bright-white, bg: "#3a3a3a", underline: true}
          error: {fg: bright-white, bg: red, bold: true}
          read-only: {fg: black, bg: yellow, bold: true}
          banner: {fg: black, bg: cyan, bold: true}

        """#,
        "light": #"""
        # Tower console theme for light terminal backgrounds. The format is described in default.yaml.
        name: light
        description: Light background; darker colours that stay readable on white.
        roles:
          header: {fg: "#ffffff", bg: "#005f87", bold: true}
          title: {bold: true, underline: true}
          selected: {reverse: true}
          ok: {fg: "#005f00"}
          warn: {fg: "#875f00", underline: true}
          bad: {fg: "#af0000", bold: true}
          dim: {dim: true}
          dialog: {fg: black, bg: "#e4e4e4"}
          dialog-title: {fg: black, bg: "#e4e4e4", bold: true}
          field: {fg: black, bg: "#ffffff", underline: true}
          error: {fg: "#ffffff", bg: "#af0000", bold: true}
          read-only: {fg: black, bg: "#ffd75f", bold: true}
          banner: {fg: "#ffffff", bg: "#5f5f87", bold: true}

        """#,
        "high-contrast": #"""
        # Tower console theme: the bright ANSI colours only, no faint text. The format is described in
        # default.yaml.
        name: high-contrast
        description: Bright colours and bold text for low vision, glare or poor projectors.
        roles:
          header: {fg: black, bg: bright-white, bold: true}
          title: {fg: bright-white, bold: true, underline: true}
          selected: {bold: true, reverse: true}
          ok: {fg: bright-green}
          warn: {fg: bright-yellow, bold: true, underline: true}
          bad: {fg: bright-white, bg: red, bold: true}
          dim: {fg: white}
          dialog: {fg: bright-white, bg: black}
          dialog-title: {fg: bright-white, bg: black, bold: true, underline: true}
          field: {fg: bright-yellow, bg: black, bold: true, underline: true}
          error: {fg: bright-white, bg: red, bold: true}
          read-only: {fg: black, bg: bright-yellow, bold: true}
          banner: {fg: black, bg: bright-cyan, bold: true}

        """#,
        "monochrome": #"""
        # Tower console theme with no colour at all: attributes only, what NO_COLOR gives every theme.
        # The format is described in default.yaml.
        name: monochrome
        description: No colour; bold, underline and reverse only.
        roles:
          header: {bold: true, reverse: true}
          title: {bold: true, underline: true}
          selected: {reverse: true}
          ok: {}
          warn: {underline: true}
          bad: {bold: true}
          dim: {dim: true}
          dialog: {}
          dialog-title: {bold: true}
          field: {underline: true}
          error: {bold: true, reverse: true}
          read-only: {bold: true, reverse: true}
          banner: {reverse: true}

        """#,
        "colorblind": #"""
        # Tower console theme safe for red–green colour blindness (deuteranopia, protanopia): ok is blue,
        # warn is yellow, bad is orange and bold — never red against green. The colours are from the
        # Okabe–Ito palette, rounded to xterm-256 entries so 256-colour terminals show them exactly; on 16
        # colours they become bright cyan, bright yellow and bright red. The format is described in
        # default.yaml.
        name: colorblind
        description: Dark background; blue, yellow and orange for red–green colour blindness.
        roles:
          header: {fg: "#ffffff", bg: "#005f87", bold: true}
          title: {bold: true, underline: true}
          selected: {reverse: true}
          ok: {fg: "#5fafff"}
          warn: {fg: "#ffd700", underline: true}
          bad: {fg: "#ff5f00", bold: true}
          dim: {dim: true}
          dialog: {fg: bright-white, bg: "#262626"}
          dialog-title: {fg: bright-white, bg: "#262626", bold: true}
          field: {fg: bright-white, bg: "#3a3a3a", underline: true}
          error: {fg: black, bg: "#ff5f00", bold: true}
          read-only: {fg: black, bg: "#ffd700", bold: true}
          banner: {fg: black, bg: "#5fafff", bold: true}

        """#,
    ]
}
