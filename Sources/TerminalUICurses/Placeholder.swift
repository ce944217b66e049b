// placeholder: the curses backend
