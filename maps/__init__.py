"""maps: the interactive-map face (folium) of dianmian."""
