"""Read side: stock, lots, documents and checks, returned as typed rows."""
