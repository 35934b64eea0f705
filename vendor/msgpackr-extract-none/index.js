throw new Error("msgpackr-extract is replaced by a stand-in; msgpackr uses its JavaScript decoder");
