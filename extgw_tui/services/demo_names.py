"""Name and address material for the demo generator: common UK names, most frequent first.

The lists mix the names a British school actually sees, including apostrophes, hyphens and
accented letters, so search, sorting and exports meet them in the demo. Email domains are all
under the reserved example names (RFC 2606), so a demo email can never reach a real person.
"""

from __future__ import annotations


def _words(text: str) -> tuple[str, ...]:
    """Names from a space-separated list; an underscore stands for a space inside a name."""
    return tuple(word.replace("_", " ") for word in text.split())


SURNAMES = _words(
    "Smith Jones Williams Taylor Brown Davies Evans Wilson Thomas Johnson Roberts Robinson "
    "Thompson Wright Walker White Edwards Hughes Green Hall Lewis Harris Clarke Patel Jackson "
    "Wood Turner Martin Cooper Hill Ward Morris Moore Clark Lee King Baker Harrison Morgan Allen "
    "James Scott Phillips Watson Davis Parker Price Bennett Young Griffiths Mitchell Kelly Cook "
    "Carter Richardson Bailey Collins Bell Shaw Murphy Miller Cox Richards Khan Marshall Anderson "
    "Simpson Ellis Adams Singh Begum Wilkinson Foster Chapman Powell Webb Rogers Gray Mason Ali "
    "Hunt Hussain Campbell Matthews Owen Palmer Holmes Mills Barnes Knight Lloyd Butler Russell "
    "Barker Fisher Stevens Jenkins Murray Dixon Harvey Graham Pearson Ahmed Fletcher Walsh Kaur "
    "Gibson Howard Andrews Stewart Elliott Reynolds Saunders Payne Fox Ford Pearce Day Brooks "
    "West Lawrence Cole Atkinson Bradley Spencer Gill Dawson Ball Burton O'Brien Watts Rose Booth "
    "Perry Ryan Grant Wells Armstrong Francis Rees Hayes Hart Hudson Newman Barrett Webster "
    "Hunter Gregory Carr Lowe Page Marsh Riley Dunn Woods Parsons Berry Stone Reid Holland "
    "Hawkins Harding Porter Robertson Newton Oliver Reed Kennedy Williamson Bird Gardner Shah "
    "Dean Lane Cooke Bates Henderson Parry Burgess Bishop Walton Burns Nicholson Shepherd Ross "
    "Cross Long Freeman Warren Nicholls Hamilton Byrne Sutton McDonald Yates Hodgson Robson "
    "Curtis Hopkins O'Connor Harper Coleman Watkins Moss McCarthy Chambers O'Neill Griffin Sharp "
    "Hardy Wheeler Potter Osborne Johnston Gordon Doyle Wallace George Jordan Hutchinson Rowe "
    "Burke May Pritchard Gilbert Willis Higgins Read Miles Stevenson Stephenson Hammond Arnold "
    "Buckley Walters Hewitt Barber Nelson Slater Austin Sullivan Whitehead Mann Frost Lambert "
    "Stephens Blake Akhtar Lynch Goodwin Barton Woodward Thomson Cunningham Quinn Barnett Baxter "
    "Bibi Clayton Nash Greenwood Jennings Holt Kemp Poole Gallagher Bond Stokes Tucker Davidson "
    "Fowler Heath Norman Middleton Lawson Banks French Stanley Jarvis Gibbs Ferguson Hayward "
    "Carroll Douglas Dickinson Todd Barlow Peters Lucas Knowles Hartley Miah Simmons Morton "
    "Alexander Field Morrison Norris Townsend Preston Hancock Thornton Baldwin Burrows Briggs "
    "Storey Pugh Pickering Nowak Kowalski Nguyen Okafor Adeyemi Mensah Osei Chen Wang Rahman "
    "Islam Uddin Mahmood Iqbal Choudhury Rossi Santos Kowalczyk Wiśniewski Müller Öztürk Núñez "
    "Zając Lefèvre Ó_Briain Smith-Jones Hughes-Parry ap_Rhys MacLeod McKenzie D'Souza Fernandes "
    "Okonkwo Boateng Yilmaz Papadopoulos Kaczmarek Dąbrowski Haddad Abdi Warsame Gonçalves"
)
GIRLS = _words(
    "Olivia Amelia Isla Ava Ivy Freya Lily Florence Mia Willow Rosie Sophia Isabella Grace Daisy "
    "Sienna Poppy Elsie Emily Ella Evelyn Phoebe Sofia Evie Charlotte Harper Matilda Millie "
    "Ruby Ellie Maya Chloe Jessica Layla Erin Aisha Zara Hannah Amira Fatima Maryam Niamh Siân "
    "Zoë Anaïs Eloise Harriet Martha Lucy Holly Imogen Megan Scarlett Alice Eleanor Thea Bethan"
)
BOYS = _words(
    "Muhammad Noah Oliver George Leo Oscar Arthur Harry Archie Jack Henry Charlie Freddie Theodore "
    "Thomas Finley Theo Alfie Jacob William Isaac Tommy Lucas Max Roman Ethan Joshua Jude Adam "
    "Reuben Samuel Louie Daniel Harrison Mason Albert Rory Hugo Dylan Ibrahim Yusuf Ayaan Kian "
    "Rhys Owen Callum Cian Seán Zoltán Ewan Joseph James Benjamin Elliot Luca Toby Caleb Jayden"
)
WOMEN = _words(
    "Sarah Claire Emma Rachel Laura Nicola Helen Lisa Kelly Joanne Michelle Victoria Rebecca "
    "Louise Amanda Gemma Natalie Catherine Jennifer Samantha Kirsty Hayley Zoe Joanna Stephanie "
    "Karen Lindsey Donna Leanne Kerry Fiona Jane Julie Nadia Shabana Nasreen Agnieszka Anna "
    "Chioma Grace Priya Sinéad Aoife Marta Ewa Yasmin Rubina Ayesha Tracey Dawn Angela Ruth"
)
MEN = _words(
    "David Paul Andrew Mark James Richard Daniel Christopher Michael Matthew Stephen Simon Robert "
    "Darren Lee Jason Craig Gareth Neil Wayne Ian Martin Jonathan Anthony Stuart Carl Adam Peter "
    "Kevin Steven Gavin Ryan Imran Tariq Asif Mohammed Piotr Tomasz Chinedu Kwame Rajesh Sanjay "
    "Ciarán Dafydd Łukasz Nathan Scott Philip Graham Alan Shaun Dean Barry Ross Mohamed Kamran"
)

#: Titles with their weights, for women and men; Mx for either.
WOMEN_TITLES = (("Mrs", 50), ("Ms", 24), ("Miss", 16), ("Dr", 5), ("Mx", 2), ("", 3))
MEN_TITLES = (("Mr", 90), ("Dr", 5), ("Mx", 2), ("", 3))

#: Home email providers (weights) and a few workplaces; every one under a reserved name.
EMAIL_DOMAINS = (
    ("gmail.example", 34),
    ("hotmail.example", 14),
    ("outlook.example.com", 10),
    ("yahoo.example", 8),
    ("btinternet.example.com", 7),
    ("icloud.example.com", 7),
    ("sky.example.com", 4),
    ("virginmedia.example.com", 3),
    ("live.example", 3),
    ("aol.example.com", 2),
    ("talktalk.example.net", 2),
    ("nhs.example.net", 2),
    ("council.example", 1),
    ("protonmail.example.com", 1),
    ("family-home.example.org", 1),
)
PUPIL_DOMAIN = "students.demo-academy.example"

#: The demo trust's local-authority number (the first digits of every UPN).
LA_CODE = 938
