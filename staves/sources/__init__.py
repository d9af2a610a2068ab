"""What reads images: any transport opened as a source, the files and packages an image
holds, what is attached to it, and what a Portage snapshot holds."""
