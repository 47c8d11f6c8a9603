// Registration module
